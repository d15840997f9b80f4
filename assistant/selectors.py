"""Reads the assistant needs beyond search: live catalog facts for passages, the chunks of a named source, the
product a question is about, and the conversations a caller may continue.

Tenant, entitlement and activity filtering happen inside the catalog and knowledge selectors used here.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from assistant.models import ANSWERING, Conversation, ConversationTurn, UnansweredQuestion
from catalog.models import Product
from catalog.selectors import (
    CODE_MAX,
    HANDLE_MAX,
    SKU_CODE_RE,
    SLUG_RE,
    is_key,
    price_lists_for,
    products_visible,
    sku_prices,
    skus_visible,
)
from catalog.selectors import stock_totals as catalog_stock_totals
from core.tenancy import Caller
from governance.models import Verdict
from knowledge.models import Chunk, Document, DocumentKind, SourceKind
from knowledge.selectors import SLUG_MAX, documents_visible

TARGET_CHUNKS_MAX = 40  # passages a summary reads at most: a long manual is summarized from its first sections


@dataclass(frozen=True)
class SkuFact:
    code: str
    sku_id: int
    product_id: int
    prices: tuple[tuple[Decimal, str], ...]  # (amount, currency) in the caller's price lists
    stock_total: int

    @property
    def in_stock(self) -> bool:
        return self.stock_total > 0


def catalog_facts(*, caller: Caller, product_ids=(), codes=()) -> dict[str, SkuFact]:
    """Return {code: SkuFact} for the caller's visible SKUs of these products or with these codes (3 queries)."""
    product_ids, codes = set(product_ids), {c for c in codes if len(c) <= 64}
    if not product_ids and not codes:
        return {}
    rows = list(
        skus_visible(caller=caller)
        .filter(Q(product_id__in=product_ids) | Q(code__in=codes))
        .values_list("pk", "code", "product_id")
    )
    ids = [pk for pk, _, _ in rows]
    prices = sku_prices(caller=caller, sku_ids=ids)
    stock = catalog_stock_totals(caller=caller, sku_ids=ids)
    return {
        code: SkuFact(
            code=code,
            sku_id=pk,
            product_id=product_id,
            prices=tuple((p.amount, p.price_list.currency) for p in prices[pk]),
            stock_total=stock[pk],
        )
        for pk, code, product_id in rows
    }


def price_list_names(*, caller: Caller) -> str:
    return ", ".join(f"{p.name}" for p in price_lists_for(caller=caller).order_by("name")) or "none"


def _live_leaves() -> QuerySet[Chunk]:
    return Chunk.objects.filter(retired_at__isnull=True, is_leaf=True).select_related("product")


def document_chunks(*, caller: Caller, slug: str) -> list[Chunk] | None:
    """Return the live passages of the caller's document `slug` in reading order; None if it cannot see one."""
    if not is_key(slug, SLUG_RE, SLUG_MAX):
        return None
    document = documents_visible(caller=caller).filter(slug=slug).first()
    if document is None:
        return None
    chunks = _live_leaves().filter(tenant_id=caller.tenant_id, source_kind=SourceKind.DOCUMENT, source_id=document.pk)
    return list(chunks.order_by("ordinal")[:TARGET_CHUNKS_MAX])


def document_kinds(*, chunks: list[Chunk]) -> dict[int, tuple[str, int | None]]:
    """Return {chunk id: (document kind, rating)} for the document passages among `chunks` (one query)."""
    ids = {c.source_id for c in chunks if c.source_kind == SourceKind.DOCUMENT}
    if not ids:
        return {}
    kinds = {
        pk: (kind, rating)
        for pk, kind, rating in Document.objects.filter(pk__in=ids).values_list("pk", "kind", "rating")
    }
    return {c.pk: kinds[c.source_id] for c in chunks if c.source_kind == SourceKind.DOCUMENT and c.source_id in kinds}


def product_review_chunks(*, caller: Caller, handle: str) -> list[Chunk] | None:
    """Return the live passages of the reviews of the caller's product `handle`; None if it cannot see one."""
    product = products_visible(caller=caller).filter(handle=handle).first() if is_key(handle, SLUG_RE, 120) else None
    if product is None:
        return None
    reviews = documents_visible(caller=caller).filter(product=product, kind=DocumentKind.REVIEW).values("pk")
    chunks = _live_leaves().filter(tenant_id=caller.tenant_id, source_kind=SourceKind.DOCUMENT, source_id__in=reviews)
    return list(chunks.order_by("source_id", "ordinal")[:TARGET_CHUNKS_MAX])


def product_chunks(*, caller: Caller, handle: str, locale: str | None = None) -> list[Chunk] | None:
    """Return the live catalog passages of the caller's product `handle` (product first, then its SKUs)."""
    product = products_visible(caller=caller).filter(handle=handle).first() if is_key(handle, SLUG_RE, 120) else None
    if product is None:
        return None
    skus = skus_visible(caller=caller).filter(product=product).values("pk")
    chunks = (
        _live_leaves()
        .filter(tenant_id=caller.tenant_id)
        .filter(
            Q(source_kind=SourceKind.PRODUCT, source_id=product.pk) | Q(source_kind=SourceKind.SKU, source_id__in=skus)
        )
    )
    if locale:
        chunks = chunks.filter(Q(locale=locale) | Q(source_kind=SourceKind.SKU))
    return list(chunks.order_by("source_kind", "source_id", "ordinal")[:TARGET_CHUNKS_MAX])


# The product in question and conversations --------------------------------------------------------------------


def product_for_handle(*, caller: Caller, handle: str) -> Product | None:
    """Return the caller's visible product with this handle, else None."""
    if not is_key(handle, SLUG_RE, HANDLE_MAX):
        return None
    return products_visible(caller=caller).filter(handle=handle).first()


def product_for_sku(*, caller: Caller, code: str) -> Product | None:
    """Return the visible product of the caller's visible SKU with this code, else None."""
    if not is_key(code, SKU_CODE_RE, CODE_MAX):
        return None
    sku = skus_visible(caller=caller).filter(code=code).select_related("product").first()
    return sku.product if sku else None


def conversation_get(*, caller: Caller, conversation_id: uuid.UUID) -> Conversation | None:
    """Return the conversation if `caller` may continue it, else None (whether or not it exists).

    It binds to the tenant, key lineage and customer group that began it: any key of the lineage (a rotated key
    included) continues it; another lineage, group or tenant does not; staff sessions continue those of staff
    sessions (no lineage) of the tenant.
    """
    return (
        Conversation.objects.filter(
            pk=conversation_id,
            tenant_id=caller.tenant_id,
            key_lineage=caller.key_lineage,
            customer_group_id=caller.customer_group_id,
        )
        .select_related("product")
        .first()
    )


def conversation_turns_recent(*, conversation: Conversation, limit: int) -> list[ConversationTurn]:
    """Return the conversation's last `limit` turns, oldest first."""
    turns = conversation.turns.order_by("-created_at", "-pk")[:limit]
    return list(reversed(turns))


def conversation_product_handle(*, conversation: Conversation, latest: ConversationTurn | None) -> str:
    """The handle of the product the conversation is about now: its latest turn's, else the one it began with."""
    if latest is not None:
        return latest.product
    return conversation.product.handle if conversation.product_id else ""


def unanswered_questions() -> QuerySet[UnansweredQuestion]:
    """Abstained chat and search answers about a product, newest first, each with `product_pk` (its product's
    id, None once no product of the tenant has that handle)."""
    product = Product.objects.filter(tenant_id=OuterRef("tenant_id"), handle=OuterRef("product")).values("pk")[:1]
    return (
        UnansweredQuestion.objects.filter(verdict=Verdict.ABSTAINED, capability__in=ANSWERING)
        .exclude(product="")
        .annotate(product_pk=Subquery(product))
    )


def unanswered_question_count(*, product: Product) -> int:
    return unanswered_questions().filter(tenant_id=product.tenant_id, product=product.handle).count()


def unanswered_question_products() -> list[tuple[str, int]]:
    """(product handle, unanswered questions), most first."""
    rows = unanswered_questions().values("product").annotate(n=Count("pk")).order_by("-n", "product")
    return [(row["product"], row["n"]) for row in rows]
