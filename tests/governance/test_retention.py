"""Retention: policies per tenant and class (audited); the purge removes expired records, never held ones, logs
what it removed, and runs from beat through a real worker."""

import datetime
import logging
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.audit import audit_record
from governance.holds import legal_hold_place, legal_hold_release
from governance.models import AnswerCitation, AnswerClaim, AnswerRecord, AuditEvent, LegalHold, PurgeRun
from governance.retention import records_purge, retention_policy_set
from governance.tasks import records_purge_task
from tests import factories
from tests.governance.retention_data import answer, conversation, officer, sql
from tests.worker import wait_until

pytestmark = pytest.mark.django_db
LATER = datetime.timedelta(days=31)  # past a 30-day policy


def _policy(tenant, record_class="answers", days=30):
    return retention_policy_set(tenant=tenant, record_class=record_class, retain_days=days, actor=None)


def _exists(*records) -> list[bool]:
    return [AnswerRecord.objects.filter(pk=r.pk).exists() for r in records]


def test_retention_policy_set__creates_and_changes_audited():
    tenant, user = factories.TenantFactory(), officer()

    retention_policy_set(tenant=tenant, record_class="answers", retain_days=90, actor=user)
    policy = retention_policy_set(tenant=tenant, record_class="answers", retain_days=30, actor=user)

    assert policy.retain_days == 30 and tenant.retention_policies.count() == 1
    events = AuditEvent.objects.filter(action="retention_policy.set").order_by("pk")
    assert [e.detail for e in events] == [
        {"record_class": "answers", "retain_days": 90, "previous_days": None},
        {"record_class": "answers", "retain_days": 30, "previous_days": 90},
    ]
    assert {(e.actor, e.tenant, e.object_id) for e in events} == {(user, tenant, str(policy.pk))}


def test_retention_policy_set__an_invalid_period_writes_nothing():
    tenant = factories.TenantFactory()

    with pytest.raises(ValidationError):
        retention_policy_set(tenant=tenant, record_class="answers", retain_days=0, actor=None)

    assert not tenant.retention_policies.exists() and not AuditEvent.objects.exists()


def test_records_purge__removes_expired_unheld_answers_and_skips_held_ones():
    tenant, other = factories.TenantFactory(), factories.TenantFactory()
    kept_by_hold = answer(tenant, question="Is my REFUND late?")
    expired = [answer(tenant), answer(tenant)]
    no_policy = answer(other)
    _policy(tenant)
    legal_hold_place(tenant=tenant, matter="Refunds", reason="Regulator", placed_by=officer(), text_query="refund")

    report = records_purge(now=timezone.now() + LATER)

    assert _exists(kept_by_hold, *expired, no_policy) == [True, False, False, True]
    assert not AnswerClaim.objects.filter(answer_id__in=[r.pk for r in expired]).exists()
    assert not AnswerCitation.objects.filter(answer_id__in=[r.pk for r in expired]).exists()
    assert AnswerClaim.objects.filter(answer=kept_by_hold).count() == 2
    assert [(r.tenant, r.record_class, r.purged, r.skipped_held) for r in report] == [(tenant.slug, "answers", 2, 1)]
    run = PurgeRun.objects.get()
    assert (run.tenant, run.purged, run.skipped_held) == (tenant, 2, 1)
    assert run.removed == [[str(r.pk), r.chain_seq, r.record_hash] for r in expired]
    event = AuditEvent.objects.get(action="records.purge")
    assert event.object_id == str(run.pk)
    assert event.detail == {"record_class": "answers", "purged": 2, "skipped_held": 1}


def test_records_purge__keeps_records_younger_than_the_period():
    tenant = factories.TenantFactory()
    record = answer(tenant)
    _policy(tenant)

    records_purge(now=timezone.now() + datetime.timedelta(days=29))

    assert _exists(record) == [True]
    assert PurgeRun.objects.get().purged == 0


def test_records_purge__after_release_removes_what_the_hold_kept():
    tenant, user = factories.TenantFactory(), officer()
    record = answer(tenant)
    _policy(tenant)
    hold = legal_hold_place(tenant=tenant, matter="M", reason="R", placed_by=user)
    records_purge(now=timezone.now() + LATER)
    assert _exists(record) == [True]

    legal_hold_release(hold=hold, released_by=user, reason="Closed")
    records_purge(now=timezone.now() + LATER)

    assert _exists(record) == [False]
    assert list(PurgeRun.objects.order_by("pk").values_list("purged", "skipped_held")) == [(0, 1), (1, 0)]


def test_records_purge__conversations_go_whole_and_a_held_turn_keeps_its_conversation():
    tenant = factories.TenantFactory()
    group = factories.CustomerGroupFactory(tenant=tenant)
    ended = conversation(tenant)
    held_id = uuid.uuid4()
    held = [answer(tenant, conversation_id=held_id, customer_group=group), answer(tenant, conversation_id=held_id)]
    single = answer(tenant)  # not in a conversation: the answers class, which has no policy here
    _policy(tenant, "conversations")
    legal_hold_place(tenant=tenant, matter="M", reason="R", placed_by=officer(), customer_group=group)

    report = records_purge(now=timezone.now() + LATER)

    assert _exists(*ended, *held, single) == [False, False, True, True, True]
    assert [(r.record_class, r.purged, r.skipped_held) for r in report] == [("conversations", 2, 2)]


def test_records_purge__audit_events_go_except_those_about_held_records_and_active_holds():
    tenant, user = factories.TenantFactory(), officer()
    record = answer(tenant)
    hold = legal_hold_place(tenant=tenant, matter="M", reason="R", placed_by=user)
    audit_record(action="record.view", actor=user, tenant=tenant, obj=record)
    plain = audit_record(action="reviewer.grant", actor=user, tenant=tenant)
    _policy(tenant, "audit")
    _policy(tenant, "feedback")

    report = records_purge(now=timezone.now() + LATER)

    assert not AuditEvent.objects.filter(pk=plain.pk).exists()
    assert AuditEvent.objects.filter(object_id=str(record.pk), action="record.view").exists()
    assert AuditEvent.objects.filter(object_id=str(hold.pk), action="legal_hold.place").exists()
    by_class = {r.record_class: (r.purged, r.skipped_held) for r in report}
    assert by_class["feedback"] == (0, 0)  # no feedback model yet
    assert by_class["audit"] == (3, 2)  # the plain event and the two policy changes go; two kept by the hold


@pytest.fixture
def released_holds():
    """Transactional tests flush with TRUNCATE, which the database refuses while a hold is active."""
    yield
    officer_ = User.objects.filter(username="officer").first()
    for hold in LegalHold.objects.filter(released_at__isnull=True):
        legal_hold_release(hold=hold, released_by=officer_, reason="test over")


@pytest.mark.django_db(transaction=True)
def test_records_purge_task__the_worker_purges_expired_unheld_records(live_worker, released_holds):
    tenant = factories.TenantFactory()
    expired, held = answer(tenant), answer(tenant, question="Held")
    sql("UPDATE governance_answerrecord SET created_at = now() - interval '40 days' WHERE tenant_id = %s", [tenant.pk])
    _policy(tenant)
    legal_hold_place(tenant=tenant, matter="M", reason="R", placed_by=officer(), text_query="held")

    records_purge_task.delay()

    run = wait_until(lambda: PurgeRun.objects.filter(tenant=tenant).first(), message="the purge run")
    assert (run.purged, run.skipped_held) == (1, 1) and _exists(expired, held) == [False, True]


def test_records_purge_task__logs_counts_without_content(caplog):
    tenant = factories.TenantFactory()
    answer(tenant, question="Where is jane.doe@example.com's parcel?")
    sql("UPDATE governance_answerrecord SET created_at = now() - interval '40 days' WHERE tenant_id = %s", [tenant.pk])
    _policy(tenant)

    with caplog.at_level(logging.INFO, logger="governance.tasks"):
        records_purge_task()  # the task's body, in this process: what the worker logs

    assert [r.getMessage().split(" cutoff=")[0] for r in caplog.records] == [
        f"retention purge: tenant={tenant.slug} class=answers"
    ]
    assert "purged=1 skipped_held=0" in caplog.text and "jane.doe" not in caplog.text
