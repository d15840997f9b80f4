"""Answer records for the review, API and export tests: two tenants' records written through the service."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone
from guardian.shortcuts import assign_perm

from assistant.pipeline.types import Citation, Claim
from governance.models import AnswerRecord
from governance.reviewers import reviewer_grant
from governance.services import answer_record_create
from knowledge.models import Chunk
from tests import factories

_n = iter(range(10**9))


def chunk(tenant, *, title="Returns policy", text="You can return items within 30 days.", retired=False) -> Chunk:
    """A policy chunk as the indexer leaves it (chunks are derived rows: written directly here)."""
    n = next(_n)
    return Chunk.objects.create(
        tenant=tenant, source_kind="policy", source_id=n, source_key=f"returns-{n}", source_version=3, anchor="c1",
        ordinal=0, locale="en", title=title, text=text, token_count=8, content_hash=f"{n:064d}",
        retired_at=timezone.now() if retired else None,
    )  # fmt: skip


def record(tenant, *, question="Can I return headphones?", cited: Chunk | None = None, **fields) -> AnswerRecord:
    """Write an answer with one kept claim citing `cited` and one removed claim, through answer_record_create."""
    claims = [
        Claim(text="Yes, within 30 days. [1]", drafted="Yes, within 30 days. [1]", status="kept", numbers=(1,)),
        Claim(
            text="Refunds take 2 days.",
            drafted="Refunds take 2 days.",
            status="removed",
            reasons=("no passage supports it",),
        ),  # fmt: skip
    ]
    values = dict(
        capability="chat", locale="en", answer="Yes, within 30 days. [1]", verdict="partial", risk="low",
        embedding_space="all-MiniLM-L6-v2@1", reranker_version="features@2", provider="extractive",
        model="extractive-1", route_reason="chat: low risk: extractive", latency_ms={"retrieve": 12.5, "verify": 3.0},
        prompt_tokens=321, completion_tokens=45, cost_estimate="0.001234",
    )  # fmt: skip
    values.update(fields)
    citations = [Citation(number=1, chunk=cited or chunk(tenant))]
    return answer_record_create(claims=claims, citations=citations, tenant=tenant, question=question, **values)


@dataclass
class TwoTenants:
    a: object
    b: object
    record_a: AnswerRecord
    record_b: AnswerRecord
    reviewer: User  # reviews tenant a only


def reviewer_of(tenant, username="reviewer") -> User:
    """A user made a reviewer of `tenant` as grant_reviewer does (staff, the group, the tenant's permission)."""
    user = User.objects.create_user(username=username, password="x")
    reviewer_grant(user=user, tenant=tenant)
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def two_tenants() -> TwoTenants:
    """Tenants A and B with one record each; `reviewer` reviews A only."""
    a, b = factories.TenantFactory(slug="tenant-a"), factories.TenantFactory(slug="tenant-b")
    record_a = record(a, question="Alpha: can I return headphones?")
    record_b = record(b, question="Bravo: secret question of tenant B?", answer="Bravo answer. [1]")
    return TwoTenants(a=a, b=b, record_a=record_a, record_b=record_b, reviewer=reviewer_of(a))


def grant(user, tenant) -> None:
    assign_perm("catalog.review_records", user, tenant)
