"""API keys: `manage.py api_key create|rotate|revoke` and the admin actions; lineages outlive a rotation.

A rotated key keeps working for its overlap and is refused after it (the tests move `expires_at` into the
past instead of waiting). What binds to a key binds to its lineage: records a records:read key reads, legal
holds naming a key, and conversations.
"""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from governance.authentication import ApiKeyAuthentication
from governance.models import AnswerRecord, ApiKey, AuditEvent, Scope, hash_key
from tests import factories
from tests.governance.retention_data import answer, officer, refused
from tests.test_admin import admin_url, login_editor

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
CHAT = "/ai/v1/chat"
RAW_KEY = re.compile(r"\bck_[0-9a-f]{8}_[\w-]+")


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("api_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _status(raw: str, url: str = URL) -> int:
    return factories.api_client(raw).get(url).status_code


def _created(tenant, *extra: str) -> tuple[ApiKey, str]:
    out = _command("create", "Web shop", "--tenant", tenant.slug, *extra)
    raw = RAW_KEY.search(out).group()
    return ApiKey.objects.get(key_hash=hash_key(raw)), raw


def _rotated(key: ApiKey, *extra: str) -> tuple[ApiKey, str, str]:
    out = _command("rotate", key.prefix, *extra)
    raw = RAW_KEY.search(out).group()
    return ApiKey.objects.get(key_hash=hash_key(raw)), raw, out


def _overlap_ends(key: ApiKey) -> None:
    """What the clock does at the end of the overlap: the rotated key's expiry is now in the past."""
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def tenant():
    tenant = factories.TenantFactory(slug="keyed")
    factories.product(tenant, handle="lamp", title="Lamp")
    return tenant


# create ---------------------------------------------------------------------------------------------------------


def test_api_key_create__prints_the_raw_key_once_and_stores_only_its_hash(tenant):
    out = _command("create", "Web shop", "--tenant", tenant.slug, "--scope", "catalog:read")

    raws = RAW_KEY.findall(out)
    assert len(raws) == 1
    key = ApiKey.objects.get(tenant=tenant)
    assert key.key_hash == hash_key(raws[0]) and key.scopes == ["catalog:read"]
    assert raws[0] not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert str(key.lineage) in out and key.prefix in out and "shown only this once" in out
    assert _status(raws[0]) == 200
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.detail["prefix"] == key.prefix and raws[0] not in str(event.detail)
    assert key.key_hash not in str(event.detail)


def test_api_key_create__each_new_key_starts_its_own_lineage(tenant):
    first, _ = _created(tenant)
    second, _ = _created(tenant)

    assert first.lineage != second.lineage


def test_api_key_create__a_customer_group_of_the_tenant_binds_the_key_to_it(tenant):
    group = factories.CustomerGroupFactory(tenant=tenant, code="b2b")

    key, _ = _created(tenant, "--customer-group", "b2b")

    assert key.customer_group == group


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "x", "--tenant", "nowhere"), "No tenant 'nowhere'"),
        (("create", "x", "--tenant", "keyed", "--customer-group", "ghost"), "No customer group 'ghost'"),
        (("rotate", "deadbeef"), "No API key with prefix 'deadbeef'"),
        (("revoke", "deadbeef"), "No API key with prefix 'deadbeef'"),
    ],
)
def test_api_key_command__bad_arguments_say_what_to_fix_and_change_nothing(tenant, args, message):
    with pytest.raises(CommandError, match=message):
        _command(*args)

    assert not ApiKey.objects.exists()


# rotate ---------------------------------------------------------------------------------------------------------


def test_api_key_rotate__the_old_key_works_during_the_overlap_then_gets_401(tenant):
    old, old_raw = _created(tenant)

    new, new_raw, out = _rotated(old)

    assert len(RAW_KEY.findall(out)) == 1 and old_raw not in out
    assert new.lineage == old.lineage and new.prefix != old.prefix
    copied = ("tenant", "customer_group", "name", "scopes")
    assert [getattr(new, f) for f in copied] == [getattr(old, f) for f in copied]
    assert _status(old_raw) == 200 and _status(new_raw) == 200  # both, during the overlap

    _overlap_ends(old)

    assert _status(old_raw) == 401 and _status(new_raw) == 200
    event = AuditEvent.objects.get(action="api_key.rotate")
    assert event.detail["replaces"] == old.prefix and new_raw not in str(event.detail)


def test_api_key_rotate__the_overlap_comes_from_the_option_or_the_setting(tenant, settings):
    settings.API_KEY_ROTATION_OVERLAP_HOURS = 6
    by_setting, _ = _created(tenant)
    by_option, _ = _created(tenant)

    before = timezone.now()
    _rotated(by_setting)
    _rotated(by_option, "--overlap-hours", "48")
    after = timezone.now()

    by_setting.refresh_from_db()
    by_option.refresh_from_db()
    assert before + timedelta(hours=6) <= by_setting.expires_at <= after + timedelta(hours=6)
    assert before + timedelta(hours=48) <= by_option.expires_at <= after + timedelta(hours=48)


def test_api_key_rotate__without_overlap_the_old_key_is_refused_at_once(tenant):
    old, old_raw = _created(tenant)

    _, new_raw, _ = _rotated(old, "--overlap-hours", "0")

    assert _status(old_raw) == 401 and _status(new_raw) == 200


def test_api_key_rotate__a_rotated_revoked_or_expired_key_cannot_be_rotated(tenant):
    rotated, _ = _created(tenant)
    newest, _, _ = _rotated(rotated)
    revoked, _ = _created(tenant)
    _command("revoke", revoked.prefix)

    with pytest.raises(CommandError, match=f"already rotated; rotate the newest key of its lineage.*{newest.prefix}"):
        _command("rotate", rotated.prefix)
    with pytest.raises(CommandError, match="revoked or expired"):
        _command("rotate", revoked.prefix)
    with pytest.raises(CommandError, match="cannot be negative"):
        _command("rotate", newest.prefix, "--overlap-hours", "-1")
    _overlap_ends(rotated)
    with pytest.raises(CommandError, match="revoked or expired"):
        _command("rotate", rotated.prefix)

    assert ApiKey.objects.filter(lineage=rotated.lineage).count() == 2


# revoke ---------------------------------------------------------------------------------------------------------


def test_api_key_revoke__ends_one_key_and_leaves_the_rest_of_its_lineage(tenant):
    old, old_raw = _created(tenant)
    _, new_raw, _ = _rotated(old)

    out = _command("revoke", old.prefix)

    assert f"Revoked {old.prefix}" in out
    assert _status(old_raw) == 401 and _status(new_raw) == 200
    assert "revoked already" in _command("revoke", old.prefix)
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def test_api_key_revoke__with_lineage_ends_every_key_of_it_and_no_other(tenant):
    old, old_raw = _created(tenant)
    _, new_raw, _ = _rotated(old)
    _, other_raw = _created(tenant)

    out = _command("revoke", old.prefix, "--lineage")

    assert "Revoked 2 key(s)" in out
    assert (_status(old_raw), _status(new_raw), _status(other_raw)) == (401, 401, 200)


# What binds to the lineage --------------------------------------------------------------------------------------


def test_caller__carries_the_key_lineage(tenant):
    key, raw = _created(tenant)
    request = factories.api_client(raw).get(URL).wsgi_request

    _, caller = ApiKeyAuthentication().authenticate(request)

    assert caller.key_lineage == key.lineage and caller.api_key_id == key.pk


def test_records_read__a_rotated_key_reads_the_same_records(tenant):
    reader, reader_raw = _created(tenant, "--scope", Scope.RECORDS_READ)
    storefront, _ = _created(tenant)
    made = {answer(tenant, api_key=storefront).pk, answer(tenant, api_key=reader).pk}
    answer(factories.TenantFactory())  # another tenant's: never listed
    before = factories.api_client(reader_raw).get("/api/v1/records/").json()

    _, new_raw, _ = _rotated(reader)
    _overlap_ends(reader)

    after = factories.api_client(new_raw).get("/api/v1/records/")
    assert after.status_code == 200
    assert {r["id"] for r in after.json()["results"]} == {r["id"] for r in before["results"]} == {str(i) for i in made}
    assert _status(reader_raw, "/api/v1/records/") == 401


def _held_ids(tenant) -> set:
    from governance.holds import answers_held

    held = answers_held(AnswerRecord.objects.filter(tenant=tenant)).filter(is_held=True)
    return set(held.values_list("pk", flat=True))


def _sql_held_ids(tenant) -> set:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id FROM governance_answerrecord a WHERE a.tenant_id = %s AND governance_answer_held(a)",
            [tenant.pk],
        )
        return {row[0] for row in cursor.fetchall()}


def test_legal_hold_on_a_key__covers_the_records_of_its_lineage_after_a_rotation(tenant):
    from governance.holds import legal_hold_place

    old, _ = _created(tenant)
    other, _ = _created(tenant)
    before = answer(tenant, api_key=old)
    hold_user = officer()
    legal_hold_place(tenant=tenant, matter="Doe v. Acme", reason="Litigation", placed_by=hold_user, api_key=old)
    new, _, _ = _rotated(old)

    after, unrelated, keyless = answer(tenant, api_key=new), answer(tenant, api_key=other), answer(tenant)

    assert _held_ids(tenant) == _sql_held_ids(tenant) == {before.pk, after.pk}
    with refused("legal hold"):
        AnswerRecord.objects.filter(pk=after.pk).delete()
    AnswerRecord.objects.filter(pk__in=[unrelated.pk, keyless.pk]).delete()  # not held: allowed
    assert set(AnswerRecord.objects.filter(tenant=tenant).values_list("pk", flat=True)) == {before.pk, after.pk}


def test_chat__a_conversation_continues_under_the_rotated_key_and_under_no_other_key(shop):
    retail = ApiKey.objects.get(tenant=shop.tenant, customer_group=None)
    question = "What is the torque of the Boltwerk drill?"
    first = shop.retail.post(CHAT, {"question": question}, format="json").json()
    _, new_raw, _ = _rotated(retail)
    _overlap_ends(retail)
    follow_up = {"question": "and the voltage?", "conversation_id": first["conversation_id"]}

    continued = factories.api_client(new_raw).post(CHAT, follow_up, format="json")
    elsewhere = shop.b2b.post(CHAT, follow_up, format="json")  # another key of the tenant

    assert shop.retail.post(CHAT, follow_up, format="json").status_code == 401
    assert continued.status_code == 200 and elsewhere.status_code == 404
    record = AnswerRecord.objects.get(pk=continued.json()["answer_id"])
    assert record.history[0] == {"role": "user", "content": question}
    assert set(elsewhere.json()) == {"conversation_id"}
    assert AnswerRecord.objects.filter(conversation_id=first["conversation_id"]).count() == 2


# Admin ----------------------------------------------------------------------------------------------------------


def _action(client, action: str, *keys: ApiKey):
    data = {"action": action, "_selected_action": [k.pk for k in keys], "index": "0"}
    return client.post(admin_url(ApiKey, "changelist"), data, follow=True)


def test_api_key_admin__rotate_shows_the_new_key_once_and_keeps_the_old_one_for_the_overlap(client, tenant):
    login_editor(client)
    old, old_raw = _created(tenant)

    response = _action(client, "rotate", old)

    shown = [str(m) for m in response.context["messages"] if "shown only this once" in str(m)]
    assert len(shown) == 1
    new_raw = RAW_KEY.search(shown[0]).group()
    new = ApiKey.objects.get(key_hash=hash_key(new_raw))
    assert new.lineage == old.lineage and _status(old_raw) == 200 and _status(new_raw) == 200
    later = client.get(admin_url(ApiKey, "changelist")).content.decode()
    assert new_raw not in later and "rotated; expires" in later
    assert "already rotated" in _action(client, "rotate", old).content.decode()  # not twice


def test_api_key_admin__revoke_lineage_ends_every_key_of_the_selected_lineages(client, tenant):
    login_editor(client)
    old, old_raw = _created(tenant)
    _, new_raw, _ = _rotated(old)
    _, other_raw = _created(tenant)

    response = _action(client, "revoke_lineage", old)

    assert "Revoked 2 keys in 1 lineage(s)" in response.content.decode()
    assert (_status(old_raw), _status(new_raw), _status(other_raw)) == (401, 401, 200)
