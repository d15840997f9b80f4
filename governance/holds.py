"""Legal holds: placed and released by compliance officers (audited); held answer records never change or go.

The scope test lives twice, kept identical: `answers_held` here (for the services, the purge and the admin)
and `governance_answer_held()` in PostgreSQL (migrations 0004 and 0008), which refuses any UPDATE, DELETE or
TRUNCATE that would touch a held record, whatever the path.

A hold covers the answer records of its tenant that match every criterion it sets: customer group, API key
(any key of its lineage: a rotation does not take records out of the hold), created between date_from and
date_to (both inclusive), and question or answer containing text_query (case-insensitive).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Lower, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from governance.audit import audit_record
from governance.locks import tenant_xact_lock
from governance.models import AnswerRecord, LegalHold

HOLD_LOCK = 0x6763_686C  # pg_advisory_xact_lock(class, tenant): placing a hold waits for a running purge
PERMISSION = "governance.place_legalhold"


def hold_lock(tenant_id: int) -> None:
    """Serialize hold placement with the tenant's purge until the transaction ends."""
    tenant_xact_lock(HOLD_LOCK, tenant_id)


def _contains(column: str):
    return GreaterThan(StrIndex(Lower(OuterRef(column)), Lower(F("text_query"))), Value(0))


def holds_covering() -> QuerySet[LegalHold]:
    """Active holds covering the outer AnswerRecord row (for Exists / Subquery); mirrors the SQL function."""
    return LegalHold.objects.filter(
        Q(customer_group__isnull=True) | Q(customer_group_id=OuterRef("customer_group_id")),
        Q(api_key__isnull=True) | Q(api_key__lineage=OuterRef("api_key__lineage")),
        Q(date_from__isnull=True) | Q(date_from__lte=OuterRef("created_at")),
        Q(date_to__isnull=True) | Q(date_to__gte=OuterRef("created_at")),
        Q(text_query="") | _contains("question") | _contains("answer"),
        released_at__isnull=True,
        tenant_id=OuterRef("tenant_id"),
    )


def answers_held(queryset: QuerySet[AnswerRecord]) -> QuerySet[AnswerRecord]:
    """Annotate each answer record with `is_held`: one EXISTS over the active holds covering it."""
    return queryset.annotate(is_held=Exists(holds_covering()))


def _validate(hold: LegalHold) -> None:
    errors = {}
    if not hold.matter.strip():
        errors["matter"] = "Name the matter."
    if not hold.reason.strip():
        errors["reason"] = "Give the reason for the hold."
    for name in ("customer_group", "api_key"):
        scoped = getattr(hold, name)
        if scoped is not None and scoped.tenant_id != hold.tenant_id:
            errors[name] = f"“{scoped}” belongs to another tenant."
    if hold.date_from and hold.date_to and hold.date_from > hold.date_to:
        errors["date_to"] = "The end of the date range is before its start."
    if errors:
        raise ValidationError(errors)


def _require_permission(user) -> None:
    if user is None or not user.has_perm(PERMISSION):
        raise PermissionDenied("Only compliance officers (permission “place and release legal holds”) may do this.")


def _scope_detail(hold: LegalHold) -> dict:
    """Name the hold's scope for the audit log; the text query may quote PII, so only its presence is logged."""
    detail = {"matter": hold.matter, "customer_group": hold.customer_group_id, "api_key": hold.api_key_id}
    detail |= {"date_from": hold.date_from and hold.date_from.isoformat()}
    detail |= {"date_to": hold.date_to and hold.date_to.isoformat(), "text_query": bool(hold.text_query)}
    return {k: v for k, v in detail.items() if v}


@transaction.atomic
def legal_hold_place(
    *, tenant, matter, reason, placed_by, customer_group=None, api_key=None, date_from=None, date_to=None, text_query=""
) -> LegalHold:
    """Place a hold over the tenant's answer records in scope; from now on they cannot change or be deleted."""
    _require_permission(placed_by)
    hold = LegalHold(
        tenant=tenant, matter=matter.strip(), reason=reason.strip(), placed_by=placed_by,
        customer_group=customer_group, api_key=api_key, date_from=date_from, date_to=date_to,
        text_query=(text_query or "").strip(),
    )  # fmt: skip
    _validate(hold)
    hold_lock(tenant.pk)  # a purge running for this tenant finishes first; the next one sees the hold
    hold.save()
    audit_record(action="legal_hold.place", actor=placed_by, tenant=tenant, obj=hold, detail=_scope_detail(hold))
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, released_by, reason: str) -> LegalHold:
    """Release an active hold; its records become subject to retention again. A released hold stays released."""
    _require_permission(released_by)
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError(f"The hold “{hold.matter}” was already released on {hold.released_at:%Y-%m-%d %H:%M}.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason for the release."})
    hold.released_at, hold.released_by, hold.release_reason = timezone.now(), released_by, reason.strip()
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    audit_record(
        action="legal_hold.release", actor=released_by, tenant=hold.tenant, obj=hold, detail={"matter": hold.matter}
    )
    return hold
