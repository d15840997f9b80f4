"""Legal holds: placed and released by compliance officers (audited); every path that would change or delete a
held answer record, its claims or its citations is refused, and the record stays as it was."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.holds import answers_held, legal_hold_place, legal_hold_release
from governance.models import AnswerCitation, AnswerClaim, AnswerRecord, AuditEvent, LegalHold
from tests import factories
from tests.governance.retention_data import answer, officer, refused, snapshot, sql
from tests.test_admin import admin_url

pytestmark = pytest.mark.django_db
IMMEDIATE = "SET CONSTRAINTS ALL IMMEDIATE; "  # TRUNCATE refuses pending (deferred) FK checks of this test's inserts


def _hold(tenant, **scope) -> LegalHold:
    user = User.objects.filter(username="officer").first() or officer()
    return legal_hold_place(tenant=tenant, matter="Doe v. Acme", reason="Litigation", placed_by=user, **scope)


@pytest.fixture
def held():
    tenant = factories.TenantFactory()
    record = answer(tenant)
    _hold(tenant)
    return record


def test_legal_hold_place__is_audited_without_the_text_query():
    tenant, user = factories.TenantFactory(), officer()

    hold = legal_hold_place(
        tenant=tenant, matter="Doe v. Acme", reason="Litigation", placed_by=user, text_query="jane.doe@example.com"
    )

    event = AuditEvent.objects.get(action="legal_hold.place")
    assert (event.actor, event.tenant, event.object_id) == (user, tenant, str(hold.pk))
    assert event.detail == {"matter": "Doe v. Acme", "text_query": True}
    assert hold.released_at is None and hold.placed_by == user


def test_legal_hold_place__without_the_permission_is_refused_and_writes_nothing():
    tenant = factories.TenantFactory()
    clerk = User.objects.create_user("clerk", is_staff=True)

    with pytest.raises(PermissionDenied):
        legal_hold_place(tenant=tenant, matter="M", reason="R", placed_by=clerk)

    assert not LegalHold.objects.exists() and not AuditEvent.objects.exists()


def test_legal_hold_place__a_group_of_another_tenant_is_a_validation_error():
    tenant, group = factories.TenantFactory(), factories.CustomerGroupFactory()

    with pytest.raises(ValidationError) as error:
        legal_hold_place(tenant=tenant, matter="M", reason="R", placed_by=officer(), customer_group=group)

    assert "customer_group" in error.value.message_dict
    assert not LegalHold.objects.exists() and not AuditEvent.objects.exists()


def test_legal_hold_release__is_audited_and_final(held):
    hold, user = LegalHold.objects.get(), User.objects.get(username="officer")

    legal_hold_release(hold=hold, released_by=user, reason="Settled")

    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == user and hold.release_reason == "Settled"
    event = AuditEvent.objects.get(action="legal_hold.release")
    assert (event.actor, event.object_id, event.detail) == (user, str(hold.pk), {"matter": "Doe v. Acme"})
    with pytest.raises(ValidationError):
        legal_hold_release(hold=hold, released_by=user, reason="Again")
    with refused("was released"):
        sql("UPDATE governance_legalhold SET released_at = NULL, released_by_id = NULL WHERE id = %s", [hold.pk])
    with refused("cannot be deleted"):
        hold.delete()
    assert AuditEvent.objects.filter(action="legal_hold.release").count() == 1
    assert LegalHold.objects.get().released_at == hold.released_at


def test_legal_hold_release__without_the_permission_is_refused(held):
    clerk = User.objects.create_user("clerk", is_staff=True)

    with pytest.raises(PermissionDenied):
        legal_hold_release(hold=LegalHold.objects.get(), released_by=clerk, reason="x")

    assert LegalHold.objects.get().released_at is None
    assert not AuditEvent.objects.filter(action="legal_hold.release").exists()


def test_legal_hold__an_active_hold_cannot_be_edited_or_deleted_in_sql(held):
    hold = LegalHold.objects.get()

    with refused("can only be released"):
        sql("UPDATE governance_legalhold SET text_query = 'x' WHERE id = %s", [hold.pk])
    with refused("cannot be deleted"):
        LegalHold.objects.all().delete()
    with refused("a legal hold is active"):
        sql(IMMEDIATE + "TRUNCATE governance_legalhold")

    assert LegalHold.objects.get().text_query == "" and LegalHold.objects.get().released_at is None


def _held_ids(tenant) -> set:
    held = answers_held(AnswerRecord.objects.filter(tenant=tenant)).filter(is_held=True)
    return set(held.values_list("pk", flat=True))


def _sql_held_ids(tenant) -> set:
    from django.db import connection

    with connection.cursor() as cursor:
        where = "a.tenant_id = %s AND governance_answer_held(a)"
        cursor.execute(f"SELECT a.id FROM governance_answerrecord a WHERE {where}", [tenant.pk])
        return {row[0] for row in cursor.fetchall()}


def test_answers_held__matches_each_scope_criterion_like_the_trigger():
    tenant, other = factories.TenantFactory(), factories.TenantFactory()
    group = factories.CustomerGroupFactory(tenant=tenant)
    key, _ = factories.api_key(tenant)
    plain, grouped, keyed = answer(tenant), answer(tenant, customer_group=group), answer(tenant, api_key=key)
    refund = answer(tenant, question="I want a REFUND for my drill")
    elsewhere = answer(other, customer_group=None)
    assert _held_ids(tenant) == set()

    _hold(tenant, customer_group=group)
    _hold(tenant, api_key=key)
    _hold(tenant, text_query="refund")
    _hold(tenant, date_to=plain.created_at - datetime.timedelta(seconds=1))  # ends before every record
    _hold(tenant, date_from=timezone.now() + datetime.timedelta(days=1))  # starts after every record

    assert _held_ids(tenant) == _sql_held_ids(tenant) == {grouped.pk, keyed.pk, refund.pk}
    assert _held_ids(other) == set() and plain.pk not in _held_ids(tenant) and elsewhere.pk
    _hold(other, date_from=elsewhere.created_at, date_to=elsewhere.created_at)  # both ends inclusive
    assert _held_ids(other) == _sql_held_ids(other) == {elsewhere.pk}


WRITES = {
    "instance delete()": lambda r: r.delete(),
    "instance save()": lambda r: (setattr(r, "answer", "Changed."), r.save()),
    "QuerySet.delete()": lambda r: AnswerRecord.objects.filter(pk=r.pk).delete(),
    "QuerySet.update()": lambda r: AnswerRecord.objects.filter(pk=r.pk).update(answer="Changed."),
    "claims update()": lambda r: AnswerClaim.objects.filter(answer=r).update(text="Changed."),
    "claims delete()": lambda r: AnswerClaim.objects.filter(answer=r).delete(),
    "citations delete()": lambda r: AnswerCitation.objects.filter(answer=r).delete(),
    "claim added": lambda r: AnswerClaim.objects.create(answer=r, ordinal=9, text="New.", status="kept"),
    "SQL UPDATE": lambda r: sql("UPDATE governance_answerrecord SET answer = 'x' WHERE id = %s", [r.pk]),
    "SQL DELETE": lambda r: sql(
        "DELETE FROM governance_answercitation WHERE answer_id = %(id)s; "
        "DELETE FROM governance_answerclaim WHERE answer_id = %(id)s; "
        "DELETE FROM governance_answerrecord WHERE id = %(id)s",
        {"id": r.pk},
    ),
    "SQL UPDATE claim": lambda r: sql("UPDATE governance_answerclaim SET text = 'x' WHERE answer_id = %s", [r.pk]),
    "SQL UPDATE citation": lambda r: sql(
        "UPDATE governance_answercitation SET number = 7 WHERE answer_id = %s", [r.pk]
    ),
    "SQL TRUNCATE": lambda r: sql(IMMEDIATE + "TRUNCATE governance_answerrecord CASCADE"),
    "SQL TRUNCATE parts": lambda r: sql(IMMEDIATE + "TRUNCATE governance_answerclaim, governance_answercitation"),
}


@pytest.mark.parametrize("path", WRITES)
def test_held_record__every_write_path_is_refused_and_changes_nothing(held, path):
    before = snapshot(held)

    with refused("legal hold"):
        WRITES[path](AnswerRecord.objects.get(pk=held.pk))

    assert snapshot(held) == before


@pytest.mark.parametrize("path", ["instance delete()", "QuerySet.update()", "SQL DELETE", "SQL UPDATE claim"])
def test_unheld_record__the_same_paths_work_beside_a_held_one(path):
    tenant = factories.TenantFactory()
    held, free = answer(tenant), answer(tenant, question="Where is my order?", answer="In transit.")
    _hold(tenant, text_query="HEADPHONES")  # covers `held` only
    before_held, before_free = snapshot(held), snapshot(free)

    WRITES[path](AnswerRecord.objects.get(pk=free.pk))

    assert snapshot(free) != before_free
    assert snapshot(held) == before_held


def test_held_record__release_lets_the_delete_through(held):
    legal_hold_release(hold=LegalHold.objects.get(), released_by=User.objects.get(username="officer"), reason="Settled")

    AnswerRecord.objects.get(pk=held.pk).delete()

    assert not AnswerRecord.objects.filter(pk=held.pk).exists()
    assert not AnswerClaim.objects.filter(answer_id=held.pk).exists()


def test_held_record__the_admin_delete_view_refuses(held, client):
    client.force_login(User.objects.create_superuser("root"))
    before = snapshot(held)

    shown = client.get(admin_url(held, "delete"))
    posted = client.post(admin_url(held, "delete"), {"post": "yes"})
    action = {"action": "delete_selected", "_selected_action": [held.pk], "post": "yes"}
    bulk = client.post(admin_url(AnswerRecord, "changelist"), action)

    assert shown.status_code == posted.status_code == 403
    assert bulk.status_code in (200, 302, 403)
    assert snapshot(held) == before


def test_audit_event__is_append_only_except_for_a_purge(held):
    event = AuditEvent.objects.get(action="legal_hold.place")

    with refused("append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with refused("append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "legal_hold.place"

    sql("SELECT set_config('governance.purging', 'on', true)")
    AuditEvent.objects.filter(pk=event.pk).delete()
    sql("SELECT set_config('governance.purging', 'off', true)")

    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    with refused("legal hold"):
        sql("SELECT set_config('governance.purging', 'on', true); DELETE FROM governance_answerclaim")
    assert AnswerClaim.objects.filter(answer=held).count() == 2
