"""Compliance review reads: which tenants a reviewer reviews and which answer records they may see.

A reviewer reviews a tenant when they hold `catalog.review_records` on that tenant as a django-guardian
object permission (directly or through a group); a global grant of that permission does not count, so a
content editor given every model permission still reviews nothing. Superusers review every tenant. An API
key reviews its own tenant when it carries the scope asked for (`records:read`, `records:export`).
Every list, search, detail, export and API read goes through `answer_record_list`, so nothing of another
tenant reaches any of them.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from catalog.models import Tenant
from governance.models import AnswerCitation, AnswerClaim, AnswerRecord, ApiKey

REVIEW_PERMISSION = "catalog.review_records"


@dataclass(frozen=True)
class Reviewer:
    """Who reads records: a signed-in user or an API key; `tenant_ids` None means every tenant."""

    user: object | None
    api_key: ApiKey | None
    tenant_ids: frozenset[int] | None

    @property
    def reviews_anything(self) -> bool:
        return self.tenant_ids is None or bool(self.tenant_ids)

    def reviews(self, tenant_id: int) -> bool:
        return self.tenant_ids is None or tenant_id in self.tenant_ids


def tenant_list_reviewed(*, user) -> QuerySet[Tenant]:
    """Return the tenants `user` reviews: every tenant for an active superuser, else their guardian grants."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return get_objects_for_user(user, REVIEW_PERMISSION, klass=Tenant, accept_global_perms=False)


def reviewer_for_user(user) -> Reviewer:
    """Return the Reviewer for a signed-in user (one query; none for a superuser)."""
    if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
        return Reviewer(user=user, api_key=None, tenant_ids=None)
    ids = frozenset(tenant_list_reviewed(user=user).values_list("pk", flat=True))
    return Reviewer(user=user, api_key=None, tenant_ids=ids)


def reviewer_for_api_key(api_key: ApiKey | None, *, scope: str) -> Reviewer:
    """Return the Reviewer for a key: its own tenant if it carries `scope`, else nothing."""
    allowed = api_key is not None and api_key.is_usable() and scope in (api_key.scopes or [])
    return Reviewer(user=None, api_key=api_key, tenant_ids=frozenset([api_key.tenant_id]) if allowed else frozenset())


def tenant_list_for_reviewer(*, reviewer: Reviewer) -> QuerySet[Tenant]:
    if reviewer.tenant_ids is None:
        return Tenant.objects.all()
    return Tenant.objects.filter(pk__in=reviewer.tenant_ids)


def answer_record_list(
    *,
    reviewer: Reviewer,
    queryset: QuerySet[AnswerRecord] | None = None,
    tenant: Tenant | None = None,
    q: str = "",
    verdict: str = "",
    risk: str = "",
    capability: str = "",
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    ids=None,
) -> QuerySet[AnswerRecord]:
    """Return the answer records `reviewer` may see, narrowed by the given filters, newest first."""
    records = (queryset if queryset is not None else AnswerRecord.objects.all()).select_related("tenant")
    if reviewer.tenant_ids is not None:
        records = records.filter(tenant_id__in=reviewer.tenant_ids)
    if tenant is not None:
        records = records.filter(tenant=tenant)
    if q:
        records = records.filter(Q(question__icontains=q) | Q(answer__icontains=q))
    for field, value in (("verdict", verdict), ("risk", risk), ("capability", capability)):
        if value:
            records = records.filter(**{field: value})
    if created_from is not None:
        records = records.filter(created_at__gte=created_from)
    if created_to is not None:
        records = records.filter(created_at__lt=created_to)
    if ids is not None:
        records = records.filter(pk__in=list(ids))
    return records


def answer_record_detail_prefetch(records: QuerySet[AnswerRecord]) -> QuerySet[AnswerRecord]:
    """Fetch what a record's review shows (versions, claims, each citation's exact chunk) in a fixed count."""
    citations = AnswerCitation.objects.select_related("chunk").order_by("number", "pk")
    claims = AnswerClaim.objects.order_by("ordinal").prefetch_related(Prefetch("citations", queryset=citations))
    return records.select_related("tenant", "customer_group", "template_version__template").prefetch_related(
        Prefetch("claims", queryset=claims), Prefetch("citations", queryset=citations)
    )


def answer_record_get(*, reviewer: Reviewer, record_id) -> AnswerRecord | None:
    """Return one record with everything its review shows, or None when `reviewer` may not see it."""
    return answer_record_detail_prefetch(answer_record_list(reviewer=reviewer, ids=[record_id])).first()


def answer_record_versions(record: AnswerRecord) -> dict:
    """Name every version an answer was made with (what a reviewer compares across answers)."""
    template = record.template_version
    return {
        "template": str(template) if template is not None else "",
        "embedding_space": record.embedding_space,
        "reranker": record.reranker_version,
        "provider": record.provider,
        "model": record.model,
        "route_reason": record.route_reason,
    }


def answer_record_citations(record: AnswerRecord) -> list[dict]:
    """Each citation resolved to the exact chunk version cited (needs `answer_record_detail_prefetch`)."""
    ordinals = {claim.pk: claim.ordinal for claim in record.claims.all()}
    return [
        {
            "number": c.number,
            "citation_id": c.citation_id,
            "claim": ordinals.get(c.claim_id),
            "chunk_id": c.chunk_id,
            "title": c.chunk.title,
            "text": c.chunk.text,
            "is_current": c.chunk.retired_at is None,
            "retired_at": c.chunk.retired_at,
        }
        for c in record.citations.all()
    ]


def answer_record_claims(record: AnswerRecord) -> list[dict]:
    """Each claim with its status, reasons and the numbers it cites (needs `answer_record_detail_prefetch`)."""
    return [
        {
            "ordinal": claim.ordinal,
            "status": claim.status,
            "text": claim.text,
            "drafted": claim.drafted,
            "reasons": list(claim.reasons or []),
            "citations": [c.number for c in claim.citations.all()],
        }
        for claim in record.claims.all()
    ]
