"""Retention: per tenant and record class, records older than the policy's period are purged, except held ones.

Record classes:
- answers: answer records outside any conversation (conversation_id empty);
- conversations: answer records sharing a conversation_id, purged together once the conversation's latest
  answer is past the period; a conversation with one held answer is kept whole;
- audit: the tenant's audit events (events about a held answer or an active hold are kept);
- feedback: there is no feedback model yet, so a feedback policy purges nothing (its run reports 0).
A tenant without a policy for a class keeps that class. Held records are excluded here; the triggers of
migration 0004 would refuse them anyway. Each policy's purge is one transaction that writes a PurgeRun
listing the removed answers' (id, chain_seq, record_hash), which keeps the tenant's chain verifiable.
"""

import datetime
import logging
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, Max, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from governance.audit import audit_record
from governance.holds import answers_held, hold_lock
from governance.models import (
    AnswerCitation,
    AnswerClaim,
    AnswerRecord,
    AuditEvent,
    LegalHold,
    PurgeRun,
    RecordClass,
    RetentionPolicy,
)

logger = logging.getLogger(__name__)
PURGE_MAX = 5_000  # answers or events per policy and run: bounds one transaction; the next run goes on


@dataclass(frozen=True)
class PurgeResult:
    tenant: str
    record_class: str
    cutoff: str
    purged: int
    skipped_held: int
    run_id: int


@transaction.atomic
def retention_policy_set(*, tenant, record_class: str, retain_days: int, actor) -> RetentionPolicy:
    """Create or change how long the tenant keeps one class of records (audited)."""
    policy = RetentionPolicy.objects.filter(tenant=tenant, record_class=record_class).first()
    previous = policy.retain_days if policy else None
    policy = policy or RetentionPolicy(tenant=tenant, record_class=record_class)
    policy.retain_days = retain_days
    policy.full_clean()
    policy.save()
    audit_record(
        action="retention_policy.set", actor=actor, tenant=tenant, obj=policy,
        detail={"record_class": record_class, "retain_days": retain_days, "previous_days": previous},
    )  # fmt: skip
    return policy


def records_purge(*, now: datetime.datetime | None = None) -> list[PurgeResult]:
    """Purge every tenant's expired records per its retention policies; return one result per policy."""
    now = now or timezone.now()
    results = []
    for policy in RetentionPolicy.objects.select_related("tenant").order_by("tenant_id", "record_class"):
        try:
            results.append(policy_purge(policy, now=now))
        except DatabaseError:  # e.g. a trigger refused a row: this policy waits for the next run, the rest go on
            logger.exception("retention purge failed: tenant=%s class=%s", policy.tenant.slug, policy.record_class)
    return results


@transaction.atomic
def policy_purge(policy: RetentionPolicy, *, now: datetime.datetime) -> PurgeResult:
    """Purge one tenant's expired records of one class, in one transaction, and log it as a PurgeRun."""
    if policy.record_class not in PURGERS:
        raise ValidationError(f"Unknown record class {policy.record_class!r}.")
    hold_lock(policy.tenant_id)  # a hold being placed for this tenant commits first, and is seen here
    cutoff = now - datetime.timedelta(days=policy.retain_days)
    purged, skipped, removed = PURGERS[policy.record_class](policy.tenant_id, cutoff)
    run = PurgeRun.objects.create(
        tenant_id=policy.tenant_id, record_class=policy.record_class, cutoff=cutoff,
        purged=purged, skipped_held=skipped, removed=removed,
    )  # fmt: skip
    audit_record(
        action="records.purge", tenant=policy.tenant, obj=run,
        detail={"record_class": policy.record_class, "purged": purged, "skipped_held": skipped},
    )  # fmt: skip
    return PurgeResult(policy.tenant.slug, policy.record_class, cutoff.isoformat(), purged, skipped, run.pk)


def _answers_delete(records: QuerySet[AnswerRecord]) -> list[list]:
    """Delete the records with their citations and claims; return [[id, chain_seq, record_hash], ...]."""
    removed = [[str(pk), seq, h] for pk, seq, h in records.values_list("pk", "chain_seq", "record_hash")]
    ids = [row[0] for row in removed]
    AnswerCitation.objects.filter(answer_id__in=ids).delete()
    AnswerClaim.objects.filter(answer_id__in=ids).delete()
    AnswerRecord.objects.filter(pk__in=ids).delete()
    return removed


def _purge_answers(tenant_id: int, cutoff: datetime.datetime) -> tuple[int, int, list]:
    expired = answers_held(
        AnswerRecord.objects.filter(tenant_id=tenant_id, conversation_id__isnull=True, created_at__lt=cutoff)
    )
    skipped = expired.filter(is_held=True).count()
    removed = _answers_delete(expired.filter(is_held=False).order_by("chain_seq", "created_at")[:PURGE_MAX])
    return len(removed), skipped, removed


def _purge_conversations(tenant_id: int, cutoff: datetime.datetime) -> tuple[int, int, list]:
    turns = AnswerRecord.objects.filter(tenant_id=tenant_id, conversation_id__isnull=False)
    ended = turns.values("conversation_id").annotate(last=Max("created_at")).filter(last__lt=cutoff)
    held = answers_held(turns).filter(is_held=True).values("conversation_id")
    expired = turns.filter(conversation_id__in=ended.values("conversation_id"))
    skipped = expired.filter(conversation_id__in=held).count()
    doomed = expired.exclude(conversation_id__in=held).order_by("chain_seq", "created_at")[:PURGE_MAX]
    removed = _answers_delete(doomed)
    return len(removed), skipped, removed


def _purge_audit(tenant_id: int, cutoff: datetime.datetime) -> tuple[int, int, list]:
    expired = AuditEvent.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
    held_answers = (
        answers_held(AnswerRecord.objects.filter(tenant_id=tenant_id))
        .filter(is_held=True)
        .annotate(id_text=Cast("pk", CharField()))
        .values("id_text")
    )
    active_holds = (
        LegalHold.objects.filter(tenant_id=tenant_id, released_at__isnull=True)
        .annotate(id_text=Cast("pk", CharField()))
        .values("id_text")
    )
    kept = Q(object_type=AnswerRecord._meta.label, object_id__in=held_answers) | Q(
        object_type=LegalHold._meta.label, object_id__in=active_holds
    )
    skipped = expired.filter(kept).count()
    ids = list(expired.exclude(kept).order_by("created_at", "pk").values_list("pk", flat=True)[:PURGE_MAX])
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('governance.purging', 'on', true)")  # the audit trigger lets it delete
        purged, _ = AuditEvent.objects.filter(pk__in=ids).delete()
        cursor.execute("SELECT set_config('governance.purging', 'off', true)")
    return purged, skipped, []


def _purge_feedback(tenant_id: int, cutoff: datetime.datetime) -> tuple[int, int, list]:
    return 0, 0, []  # no feedback model yet: nothing to purge


PURGERS = {
    RecordClass.ANSWERS: _purge_answers,
    RecordClass.CONVERSATIONS: _purge_conversations,
    RecordClass.AUDIT: _purge_audit,
    RecordClass.FEEDBACK: _purge_feedback,
}


def purge_report(results: list[PurgeResult]) -> list[dict]:
    """Plain dicts for the task's log and result (tenant slugs, classes and counts: no record content)."""
    return [asdict(r) for r in results]
