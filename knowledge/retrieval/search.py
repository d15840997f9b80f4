"""Hybrid search for the storefront: three legs, reciprocal-rank fusion, then one visibility query.

The legs filter by tenant only; everything else the caller may or may not see (active product, entitled
category, the client's filters) is decided by a single SQL query over the fused candidate ids, so no
later step ever holds a chunk the caller may not read.
"""

import html
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, Min, OuterRef, Q, Subquery

from catalog.models import Price, StockLevel
from catalog.selectors import _entitled_categories_sql as entitled_categories_sql  # a subquery: keeps ONE query
from catalog.selectors import category_subtree_by_slug, price_lists_for, products_visible
from governance.authentication import Caller
from knowledge.models import Chunk
from knowledge.retrieval.fusion import reciprocal_rank_fusion
from knowledge.retrieval.fuzzy import chunk_search_fuzzy
from knowledge.retrieval.keyword import chunk_search_keyword_ids
from knowledge.selectors import chunk_search_vector

VECTOR_K, KEYWORD_K, FUZZY_K = 100, 100, 50  # fused pool of at most 250 candidates: enough for 5 pages of 50
QUERY_EMBED_CHARS = 2_000  # MiniLM reads 256 word pieces; more text only costs tokenizer time
PRODUCT_FILTERS = ("category", "in_stock", "price_min", "price_max", "compliance_category")
# (label, low inclusive, high exclusive) over the lowest resolved price within the requested price range.
PRICE_BANDS = (
    ("0-50", Decimal(0), Decimal(50)),
    ("50-100", Decimal(50), Decimal(100)),
    ("100-250", Decimal(100), Decimal(250)),
    ("250-500", Decimal(250), Decimal(500)),
    ("500+", Decimal(500), None),
)
SNIPPET_MAX = 300  # characters of a highlight before it is cut with an ellipsis
HIGHLIGHT_TERMS = 32  # distinct query words looked for in a snippet
WORD_RE = re.compile(r"\w+", re.UNICODE)
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class SearchHit:
    chunk: Chunk
    score: float
    legs: dict[str, float | None]
    snippet: str

    @property
    def product_handle(self) -> str | None:
        return self.chunk.product.handle if self.chunk.product_id else None


@dataclass(frozen=True)
class SearchResult:
    count: int
    page: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def search(caller: Caller, params: Mapping) -> SearchResult:
    """Return one page of the caller's hits for `params["q"]`, with facets over every visible candidate.

    `params` is validated input: q, and optionally locale, category, in_stock (bool), price_min, price_max,
    compliance_category, page (from 1) and page_size.
    """
    query = params["q"]
    tenant_id = caller.tenant.pk
    locale = params.get("locale")
    vector = {
        hit.chunk.pk: hit.score
        for hit in chunk_search_vector(tenant_id=tenant_id, query=query[:QUERY_EMBED_CHARS], k=VECTOR_K, locale=locale)
    }
    keyword = dict(chunk_search_keyword_ids(tenant_id=tenant_id, query=query, k=KEYWORD_K, locale=locale))
    fuzzy = {hit.chunk.pk: hit.score for hit in chunk_search_fuzzy(tenant_id=tenant_id, query=query, k=FUZZY_K)}
    fused = dict(reciprocal_rank_fusion([list(keyword), list(vector), list(fuzzy)]))

    rows = list(visible_candidates(caller, params, fused.keys()))
    rows.sort(key=lambda row: (-fused[row["id"]], row["id"]))  # stable: ties broken by chunk id
    facets = _facets(rows)

    page, size = params.get("page") or 1, params["page_size"]
    page_ids = [row["id"] for row in rows[(page - 1) * size : page * size]]
    chunks = Chunk.objects.select_related("product").in_bulk(page_ids)
    words = _query_words(query)
    hits = [
        SearchHit(
            chunk=chunks[cid],
            score=fused[cid],
            legs={"vector": vector.get(cid), "keyword": keyword.get(cid), "fuzzy": fuzzy.get(cid)},
            snippet=highlight(chunks[cid].text, words),
        )
        for cid in page_ids
    ]
    return SearchResult(count=len(rows), page=page, hits=hits, facets=facets)


def visible_candidates(caller: Caller, params: Mapping, ids):
    """Return the candidates the caller may see, with the product fields facets need: ONE query."""
    tenant_id = caller.tenant.pk
    products = products_visible(caller=caller)
    if params.get("category"):
        products = products.filter(
            category_id__in=category_subtree_by_slug(tenant_id=tenant_id, slug=params["category"])
        )
    if params.get("compliance_category"):
        products = products.filter(compliance_category=params["compliance_category"])
    stocked = StockLevel.objects.filter(
        warehouse__tenant_id=tenant_id, sku__product_id=OuterRef("product_id"), sku__is_active=True, quantity__gt=0
    )
    if params.get("in_stock") is not None:
        in_stock_products = StockLevel.objects.filter(
            warehouse__tenant_id=tenant_id, sku__product_id=OuterRef("pk"), sku__is_active=True, quantity__gt=0
        )
        products = products.filter(Exists(in_stock_products) if params["in_stock"] else ~Exists(in_stock_products))
    prices = _prices_in_range(caller, params)
    if params.get("price_min") is not None or params.get("price_max") is not None:
        products = products.filter(Exists(prices.filter(sku__product_id=OuterRef("pk"))))

    visible = Q(product_id__in=products.values("pk"))
    if not any(params.get(name) is not None and params.get(name) != "" for name in PRODUCT_FILTERS):
        entitled = entitled_categories_sql(caller)
        unscoped = Q(product__isnull=True)
        if entitled is not None:  # a document filed under a category follows that category's entitlement
            unscoped &= Q(category__isnull=True) | Q(category_id__in=entitled)
        visible |= unscoped
    chunks = Chunk.objects.filter(visible, pk__in=list(ids), tenant_id=tenant_id, retired_at__isnull=True)
    if params.get("locale"):
        chunks = chunks.filter(locale=params["locale"])
    lowest = prices.filter(sku__product_id=OuterRef("product_id")).values("sku__product_id").annotate(m=Min("amount"))
    return chunks.values("id", "product_id").annotate(
        category_slug=F("product__category__slug"),
        brand=F("product__brand"),
        in_stock=Exists(stocked),
        price=Subquery(lowest.values("m"), output_field=DecimalField(max_digits=12, decimal_places=2)),
    )


def _prices_in_range(caller: Caller, params: Mapping):
    prices = Price.objects.filter(price_list__in=price_lists_for(caller=caller), sku__is_active=True)
    if params.get("price_min") is not None:
        prices = prices.filter(amount__gte=params["price_min"])
    if params.get("price_max") is not None:
        prices = prices.filter(amount__lte=params["price_max"])
    return prices


def _facets(rows) -> dict[str, dict[str, int]]:
    """Count the visible candidates by their product's category, brand, stock and price band."""
    category, brand, in_stock, price = Counter(), Counter(), Counter({"true": 0, "false": 0}), Counter()
    for row in rows:
        if row["product_id"] is None:
            continue
        category[row["category_slug"]] += 1
        if row["brand"]:
            brand[row["brand"]] += 1
        in_stock["true" if row["in_stock"] else "false"] += 1
        if row["price"] is not None:
            price[price_band(row["price"])] += 1
    return {
        "category": dict(sorted(category.items())),
        "brand": dict(sorted(brand.items())),
        "in_stock": dict(in_stock),
        "price": {label: price[label] for label, _, _ in PRICE_BANDS},
    }


def price_band(amount: Decimal) -> str:
    for label, low, high in PRICE_BANDS:
        if amount >= low and (high is None or amount < high):
            return label
    return PRICE_BANDS[0][0]  # negative prices cannot exist (MinValueValidator); keep the facet total anyway


def _query_words(query: str) -> list[str]:
    words = []
    for word in WORD_RE.findall(query.lower()):
        if len(word) > 1 and word not in words:  # one letter would mark half the snippet
            words.append(word)
        if len(words) == HIGHLIGHT_TERMS:
            break
    return words


def highlight(text: str, words: list[str]) -> str:
    """Return the first sentence(s) holding a query word, HTML-escaped, the words wrapped in <mark>."""
    sentences = [s for s in SENTENCE_END_RE.split(text) if s.strip()]
    if not sentences:
        return ""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{alternatives})", re.IGNORECASE)  # word starts: "headphone" marks "headphones"
    start = next((i for i, s in enumerate(sentences) if words and pattern.search(s)), 0)
    snippet = ""
    for sentence in sentences[start:]:
        snippet = f"{snippet} {sentence.strip()}".strip()
        if len(snippet) >= SNIPPET_MAX // 2:
            break
    if len(snippet) > SNIPPET_MAX:
        snippet = snippet[:SNIPPET_MAX].rsplit(" ", 1)[0] + "…"
    if not words:
        return html.escape(snippet)
    out, last = [], 0
    for match in pattern.finditer(snippet):
        out.append(html.escape(snippet[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    out.append(html.escape(snippet[last:]))
    return "".join(out)
