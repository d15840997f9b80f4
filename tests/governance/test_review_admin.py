"""Compliance review in the admin: per-tenant scoping, the read-only record view, filters, export, holds."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from guardian.shortcuts import get_perms

from governance.models import AnswerRecord, AuditEvent, LegalHold, RetentionPolicy
from governance.reviewers import REVIEWER_GROUP, REVIEWER_PERMISSIONS, reviewer_group_ensure
from tests.governance.review_data import chunk, record, reviewer_of, two_tenants
from tests.test_admin import admin_url, form_errors, submit

pytestmark = pytest.mark.django_db


def listed(response) -> set:
    assert response.status_code == 200
    return {r.pk for r in response.context["cl"].result_list}


def test_review_admin__reviewer_of_a_lists_and_finds_only_a(client):
    world = two_tenants()
    client.force_login(world.reviewer)
    changelist = admin_url(AnswerRecord, "changelist")

    everything = client.get(changelist)
    search_b = client.get(changelist, {"q": "Bravo"})
    by_tenant_b = client.get(changelist, {"tenant__id__exact": world.b.pk})

    assert listed(everything) == {world.record_a.pk}
    assert listed(search_b) == set()
    # With one tenant to choose from Django hides (and ignores) the tenant filter: still nothing of B.
    assert world.record_b.pk not in listed(by_tenant_b) and "Bravo" not in by_tenant_b.content.decode()
    assert "Tenant B" not in everything.content.decode()  # not even in the tenant filter


def test_review_admin__record_of_b_is_403_and_leaves_no_audit_event(client):
    world = two_tenants()
    client.force_login(world.reviewer)

    pages = [client.get(admin_url(world.record_b, view)) for view in ("change", "history", "delete")]
    missing = client.get(admin_url(AnswerRecord, "change", "00000000-0000-0000-0000-000000000000"))

    assert [p.status_code for p in pages] == [403, 403, 403] and missing.status_code == 403
    assert not AuditEvent.objects.filter(action="record.view").exists()


def test_review_admin__record_view_shows_evidence_versions_costs_and_is_audited(client):
    world = two_tenants()
    retired = chunk(world.a, title="Returns (v2)", text="Return within 14 days.", retired=True)
    cited = record(world.a, cited=retired, question="Alpha: old policy?", risk="high")
    client.force_login(world.reviewer)

    page = client.get(admin_url(cited, "change"))

    assert page.status_code == 200
    html = page.content.decode()
    for shown in (
        "Alpha: old policy?", "Yes, within 30 days. [1]", "partial", "removed", "no passage supports it",
        retired.citation_id, "Returns (v2)", "Return within 14 days.", "retired ", "all-MiniLM-L6-v2@1",
        "features@2", "extractive-1", "chat: low risk: extractive", "retrieve", "12.5", "321", "45", "0.001234",
    ):  # fmt: skip
        assert shown in html, shown
    event = AuditEvent.objects.get(action="record.view")
    assert (event.tenant, event.actor, event.object_id) == (world.a, world.reviewer, str(cited.pk))
    assert event.detail == {"via": "admin"}
    assert client.post(admin_url(cited, "change"), {"question": "changed"}).status_code == 403
    assert AnswerRecord.objects.get(pk=cited.pk).question == "Alpha: old policy?"


def test_review_admin__superuser_sees_every_tenant(client, django_user_model):
    world = two_tenants()
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))

    assert listed(client.get(admin_url(AnswerRecord, "changelist"))) == {world.record_a.pk, world.record_b.pk}
    assert client.get(admin_url(world.record_b, "change")).status_code == 200


def test_review_admin__filters_by_verdict_risk_date_and_hold(client, django_user_model):
    world = two_tenants()
    high = record(world.a, verdict="verified", risk="high", question="Alpha: warranty claim?")
    old = record(world.a, question="Alpha: last year?")
    AnswerRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    client.force_login(world.reviewer)
    changelist = admin_url(AnswerRecord, "changelist")
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)  # as the filter's links

    assert listed(client.get(changelist, {"verdict__exact": "verified"})) == {high.pk}
    assert listed(client.get(changelist, {"risk": "high"})) == {high.pk}
    assert listed(client.get(changelist, {"risk": "low"})) == {world.record_a.pk, old.pk}
    recent = {"created_at__gte": str(today - timedelta(days=7)), "created_at__lt": str(today + timedelta(days=1))}
    assert listed(client.get(changelist, recent)) == {world.record_a.pk, high.pk}
    assert listed(client.get(changelist, {"held": "yes"})) == set()

    officer = django_user_model.objects.create_superuser("officer", password="x")
    from governance.holds import legal_hold_place

    legal_hold_place(
        tenant=world.a, matter="Doe v. Acme", reason="Litigation", placed_by=officer, text_query="warranty"
    )
    assert listed(client.get(changelist, {"held": "yes"})) == {high.pk}
    assert listed(client.get(changelist, {"held": "no"})) == {world.record_a.pk, old.pk}


def test_review_admin__export_action_downloads_only_visible_records_with_a_manifest(client):
    world = two_tenants()
    client.force_login(world.reviewer)

    response = client.post(
        admin_url(AnswerRecord, "changelist"),
        {"action": "export_jsonl", "_selected_action": [world.record_a.pk, world.record_b.pk], "index": "0"},
    )

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        lines = zf.read("records.jsonl").splitlines()
        manifest = json.loads(zf.read("manifest.json"))
    assert [json.loads(line)["id"] for line in lines] == [str(world.record_a.pk)]
    assert [e["id"] for e in manifest["records"]] == [str(world.record_a.pk)]
    event = AuditEvent.objects.get(action="records.export")
    assert event.tenant == world.a and event.detail["via"] == "admin" and event.detail["count"] == 1


def test_review_admin__legal_hold_is_placed_through_the_form_and_released_with_a_reason(client, django_user_model):
    world = two_tenants()
    officer = django_user_model.objects.create_superuser("officer", password="x")
    client.force_login(officer)

    submit(client, admin_url(LegalHold, "add"), {"tenant": world.a.pk, "matter": "Doe v. Acme", "reason": "Suit"})

    hold = LegalHold.objects.get()
    assert (hold.tenant, hold.placed_by, hold.released_at) == (world.a, officer, None)
    assert AuditEvent.objects.filter(action="legal_hold.place", object_id=str(hold.pk)).exists()
    page = client.get(admin_url(hold, "change")).content.decode()
    assert "Release hold" in page and 'name="matter"' not in page  # read-only once placed
    release_url = admin_url(LegalHold, "release", hold.pk)
    assert client.post(release_url, {"reason": ""}).status_code == 200  # the form again: a reason is required
    assert LegalHold.objects.get().released_at is None

    client.post(release_url, {"reason": "Settled"})

    hold.refresh_from_db()
    assert hold.released_by == officer and hold.release_reason == "Settled" and hold.released_at is not None
    assert "Release hold" not in client.get(admin_url(hold, "change")).content.decode()
    assert LegalHold.objects.filter(released_at__isnull=True).count() == 0
    assert listed(client.get(admin_url(LegalHold, "changelist"), {"status": "released"})) == {hold.pk}
    assert listed(client.get(admin_url(LegalHold, "changelist"), {"status": "active"})) == set()


def test_review_admin__holds_need_the_place_permission_and_stay_in_their_tenant(client, django_user_model):
    world = two_tenants()
    officer = django_user_model.objects.create_superuser("officer", password="x")
    from governance.holds import legal_hold_place

    hold_b = legal_hold_place(tenant=world.b, matter="Roe v. B", reason="Suit", placed_by=officer)
    client.force_login(world.reviewer)  # reviews A, may not place holds

    assert client.get(admin_url(LegalHold, "add")).status_code == 403
    assert client.get(admin_url(hold_b, "change")).status_code == 403
    assert client.post(admin_url(LegalHold, "release", hold_b.pk), {"reason": "x"}).status_code == 403
    assert listed(client.get(admin_url(LegalHold, "changelist"))) == set()
    assert LegalHold.objects.get().released_at is None


def test_review_admin__hold_form_refuses_a_customer_group_of_another_tenant(client, django_user_model):
    from tests import factories

    world = two_tenants()
    client.force_login(django_user_model.objects.create_superuser("officer", password="x"))
    group_b = factories.CustomerGroupFactory(tenant=world.b)

    response = submit(
        client, admin_url(LegalHold, "add"),
        {"tenant": world.a.pk, "matter": "M", "reason": "R", "customer_group": group_b.pk},
    )  # fmt: skip

    assert f"customer_group: “{group_b}” belongs to another tenant." in form_errors(response)
    assert not LegalHold.objects.exists()


def test_review_admin__retention_policy_is_set_through_the_service(client, django_user_model):
    world = two_tenants()
    admin_user = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin_user)

    submit(
        client, admin_url(RetentionPolicy, "add"), {"tenant": world.a.pk, "record_class": "answers", "retain_days": 90}
    )
    policy = RetentionPolicy.objects.get()
    submit(client, admin_url(policy, "change"), {"retain_days": 30})

    policy.refresh_from_db()
    assert (policy.tenant, policy.record_class, policy.retain_days) == (world.a, "answers", 30)
    events = AuditEvent.objects.filter(action="retention_policy.set").order_by("pk")
    assert [e.detail["retain_days"] for e in events] == [90, 30] and all(e.actor == admin_user for e in events)


def test_review_admin__audit_log_shows_a_reviewer_only_their_tenants_events(client):
    world = two_tenants()
    from governance.audit import audit_record

    mine = audit_record(action="sample.a", tenant=world.a)
    theirs = audit_record(action="sample.b", tenant=world.b)
    client.force_login(world.reviewer)

    shown = listed(client.get(admin_url(AuditEvent, "changelist")))

    assert mine.pk in shown and theirs.pk not in shown
    assert client.get(admin_url(theirs, "change")).status_code == 403


def test_review_admin__grant_reviewer_command_grants_and_revokes(django_user_model):
    world = two_tenants()
    user = django_user_model.objects.create_user("carol")
    out = io.StringIO()

    call_command("grant_reviewer", "carol", world.b.slug, stdout=out)

    user.refresh_from_db()
    assert get_perms(user, world.b) == ["review_records"] and get_perms(user, world.a) == []
    assert user.is_staff and user.groups.filter(name=REVIEWER_GROUP).exists()
    assert "carol now reviews tenant-b" in out.getvalue()
    assert AuditEvent.objects.filter(action="reviewer.grant", tenant=world.b, object_id=str(user.pk)).exists()

    call_command("grant_reviewer", "carol", world.b.slug, "--revoke", stdout=out)

    assert get_perms(user, world.b) == [] and not user.groups.filter(name=REVIEWER_GROUP).exists()
    assert AuditEvent.objects.filter(action="reviewer.revoke", tenant=world.b).exists()


def test_review_admin__reviewers_group_holds_view_permissions_only():
    import importlib

    migration = importlib.import_module("governance.migrations.0005_reviewer_group")

    group = reviewer_group_ensure()  # what migration 0005 made (transactional tests flush it; this remakes it)

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == {codename for _, codename in REVIEWER_PERMISSIONS} == set(migration.CODENAMES)
    assert {"view_answerrecord", "view_legalhold", "view_auditevent", "view_purgerun"} <= codenames
    assert all(c.startswith("view_") for c in codenames) and group.name == migration.REVIEWER_GROUP


def test_review_admin__a_reviewer_of_both_tenants_sees_both(client):
    world = two_tenants()
    other = reviewer_of(world.b, username="both")
    from tests.governance.review_data import grant

    grant(other, world.a)
    client.force_login(other)

    assert listed(client.get(admin_url(AnswerRecord, "changelist"))) == {world.record_a.pk, world.record_b.pk}
