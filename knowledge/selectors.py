"""Reads of policies, documents and ranking profiles. Tenant and entitlement filtering happen inside each query.

Policies show only what was published (a PolicyVersion), never the working copy. A document tied to a
product is visible exactly when that product is (same tenant, entitled category, active).
"""

from collections.abc import Mapping

import django_filters
from django.db.models import Prefetch, Q, QuerySet

from catalog.filters import filter_or_raise
from catalog.selectors import HANDLE_MAX, SLUG_RE, is_key, products_visible
from core.tenancy import LOCALE_CHOICES, Caller
from knowledge.models import (
    Document,
    DocumentKind,
    IngestionRun,
    Policy,
    PolicyKind,
    PolicyVersion,
    RankingProfile,
)
from knowledge.ranking import WEIGHT_FIELDS, Ranking

SLUG_MAX = 120  # Document.slug's max_length; policy slugs are shorter
VERSION_MAX = 2**31 - 1  # PositiveIntegerField: larger numbers cannot exist (and would overflow the query)
ID_MAX = 2**63 - 1  # BigAutoField


class PolicyFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="kind", choices=PolicyKind.choices)
    region = django_filters.CharFilter(field_name="region", lookup_expr="iexact", max_length=20)
    locale = django_filters.ChoiceFilter(field_name="locale", choices=LOCALE_CHOICES)


class DocumentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="kind", choices=DocumentKind.choices)
    product = django_filters.CharFilter(field_name="product__handle", max_length=HANDLE_MAX, label="Product handle")
    locale = django_filters.ChoiceFilter(field_name="locale", choices=LOCALE_CHOICES)


# Policies ---------------------------------------------------------------------------------------------------


def policies_published(*, caller: Caller) -> QuerySet[Policy]:
    """Return the tenant's policies that have a published version."""
    return Policy.objects.filter(tenant_id=caller.tenant_id, current_version__isnull=False)


def policy_list(*, caller: Caller, filters: Mapping | None = None) -> QuerySet[Policy]:
    """Return the caller's published policies filtered by `filters` (PolicyFilter), with their current version."""
    policies = (
        policies_published(caller=caller).select_related("current_version").defer("body", "current_version__body")
    )
    policies = filter_or_raise(PolicyFilter(filters or {}, queryset=policies))
    return policies.order_by("kind", "region", "locale", "slug")


def policy_get(*, caller: Caller, slug: str) -> Policy | None:
    """Return the caller's published policy with this slug, its current version and its versions (no bodies)."""
    if not is_key(slug, SLUG_RE, SLUG_MAX):
        return None
    versions = PolicyVersion.objects.defer("body").order_by("-number")
    return (
        policies_published(caller=caller)
        .filter(slug=slug)
        .select_related("current_version")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="version_list"))
        .first()
    )


def policy_version_get(*, caller: Caller, slug: str, number: int) -> PolicyVersion | None:
    """Return version `number` of the caller's published policy `slug`, current or not."""
    if not is_key(slug, SLUG_RE, SLUG_MAX) or not 0 < number <= VERSION_MAX:
        return None
    return (
        PolicyVersion.objects.filter(policy__in=policies_published(caller=caller), policy__slug=slug, number=number)
        .select_related("policy")
        .first()
    )


# Documents --------------------------------------------------------------------------------------------------


def documents_visible(*, caller: Caller, include_inactive: bool = False) -> QuerySet[Document]:
    """Return the tenant's documents: those tied to no product, or to a product the caller sees."""
    products = products_visible(caller=caller, include_inactive=include_inactive)
    return Document.objects.filter(Q(product__isnull=True) | Q(product__in=products), tenant_id=caller.tenant_id)


def document_list(
    *, caller: Caller, filters: Mapping | None = None, include_inactive: bool = False
) -> QuerySet[Document]:
    """Return the caller's documents filtered by `filters` (DocumentFilter), without their bodies."""
    documents = documents_visible(caller=caller, include_inactive=include_inactive)
    documents = documents.select_related("product").defer("body", "product__description", "product__attributes")
    documents = filter_or_raise(DocumentFilter(filters or {}, queryset=documents))
    return documents.order_by("kind", "title", "slug")


def document_get(*, caller: Caller, slug: str, include_inactive: bool = False) -> Document | None:
    """Return the caller's document with this slug, body included; else None."""
    if not is_key(slug, SLUG_RE, SLUG_MAX):
        return None
    documents = documents_visible(caller=caller, include_inactive=include_inactive).filter(slug=slug)
    return documents.select_related("product").first()


# Import runs ------------------------------------------------------------------------------------------------


def ingestion_run_get(*, caller: Caller, run_id: int) -> IngestionRun | None:
    """Return the caller's tenant's import run with this id (any origin); else None."""
    if not 0 < run_id <= ID_MAX:
        return None
    return IngestionRun.objects.filter(pk=run_id, tenant_id=caller.tenant_id).first()


# Ranking ----------------------------------------------------------------------------------------------------


def ranking_for(*, tenant_id: int) -> Ranking:
    """Return the tenant's newest ranking version, or the settings' defaults (version 0)."""
    row = (
        RankingProfile.objects.filter(tenant_id=tenant_id)
        .order_by("-version")
        .values("version", *WEIGHT_FIELDS)
        .first()
    )
    return Ranking(**row) if row else Ranking.from_settings()
