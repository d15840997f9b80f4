"""What a caller may see, as one SQL condition that every retrieval leg puts inside its own query.

Tenant, locale, entitlement (the customer group's categories), activity, and the client's category,
stock, price-range and compliance filters are decided here, once per request, and spliced into the
vector, keyword and fuzzy legs' WHERE clauses: a leg never returns a chunk the caller may not read, and a
selective filter still yields k results because the leg keeps scanning until it has them (pgvector's
iterative scan, BM25's full scoring, trigram candidates filtered before their LIMIT). A product scope (the
assistant's questions about one product) is a condition too, and its chunks are scored exactly.

Conditions use named parameters prefixed `v_` so they merge with a leg's own parameters.
"""

from dataclasses import dataclass, replace

from django.db import connection

from catalog.selectors import category_entitled_ids, category_subtree_ids_by_slug, price_lists_for
from core.tenancy import Caller
from knowledge.retrieval.request import SearchFilters

NO_FILTERS = SearchFilters()
# A category subtree with at most this many products is searched exactly by the vector and keyword legs:
# every chunk of it is scored, then checked for visibility best first (cheaper than an index walk that
# skips the rest of the catalog, and exact).
EXACT_CATEGORY_MAX_PRODUCTS = 6_000
# The live leaf chunks of the products in the requested category subtree (`small_category` callers), read
# from two covering indexes: the products' sorted ids, then one walk of the chunks' index along them (cheaper
# than a join over the tables).
CATEGORY_CHUNKS = """
    SELECT c.id FROM knowledge_chunk c
    WHERE c.product_id = ANY(ARRAY(
        SELECT p0.id FROM catalog_product p0
        WHERE p0.tenant_id = %(v_tenant)s AND p0.category_id = ANY(%(v_category)s) ORDER BY 1
    ))
      AND c.tenant_id = %(v_tenant)s AND c.retired_at IS NULL AND c.is_leaf
"""

IN_CATEGORY = "p.category_id = ANY(%(v_category)s)"

# A product scope's live leaf chunks (the products' own, from the same covering index), and with its
# policies the tenant's live policy chunks (from the live-source index): few enough to score exactly.
SCOPE_CHUNKS = """
    SELECT c.id FROM knowledge_chunk c
    WHERE c.product_id = ANY(%(v_products)s)
      AND c.tenant_id = %(v_tenant)s AND c.retired_at IS NULL AND c.is_leaf
"""
SCOPE_POLICY_CHUNKS = """
    UNION ALL
    SELECT c.id FROM knowledge_chunk c
    WHERE c.source_kind = 'policy' AND c.product_id IS NULL
      AND c.tenant_id = %(v_tenant)s AND c.retired_at IS NULL AND c.is_leaf
"""
POLICY_CHUNK = "(c.product_id IS NULL AND c.source_kind = 'policy')"

# The same ids once listed by `with_category_chunks` (sorted, comma-separated). The scalar sub-query keeps
# the planner from folding the list into a constant array and estimating it element by element.
LISTED_CHUNKS = "SELECT unnest((SELECT string_to_array(%(v_chunks)s, ',')::bigint[]))"

# The SKUs that decide a chunk's stock and price: a SKU chunk's own SKU, else every SKU of the product.
SKU_SCOPE = "s.product_id = p.id AND s.is_active AND (c.source_kind <> 'sku' OR s.id = c.source_id)"
_PRODUCT_SKU_SCOPE = "s.product_id = p.id AND s.is_active"
# The same split by chunk kind, for the chunk condition (a chunk aliased `c`): see _chunk_skus.
_OWN_SKU_SCOPE = "s.id = c.source_id AND s.product_id = c.product_id AND s.is_active"
_CHUNK_PRODUCT_SKU_SCOPE = "s.product_id = c.product_id AND s.is_active"
_SKU_ACTIVE = "EXISTS (SELECT 1 FROM catalog_sku s WHERE s.id = c.source_id AND s.is_active)"
# Over the SKUs in `{scope}`: one in stock; and the rows of their prices in the caller's price lists within
# the requested range. The filters (below) and the search facets (knowledge.retrieval.search) read both.
STOCKED = (
    "EXISTS (SELECT 1 FROM catalog_sku s JOIN catalog_stocklevel sl ON sl.sku_id = s.id"
    " WHERE {scope} AND sl.quantity > 0)"
)
PRICED = (
    "FROM catalog_sku s JOIN catalog_price pr ON pr.sku_id = s.id"
    " WHERE {scope} AND pr.price_list_id = ANY(%(v_lists)s)"
    " AND (%(v_low)s::numeric IS NULL OR pr.amount >= %(v_low)s)"
    " AND (%(v_high)s::numeric IS NULL OR pr.amount <= %(v_high)s)"
)


@dataclass(frozen=True)
class Visibility:
    """`chunk_sql` is a condition over a chunk aliased `c`; `product_sql` one over a product aliased `p`.

    `small_category` asks the legs to score the chunks `listed_sql` selects exactly: those of a category
    filter of at most EXACT_CATEGORY_MAX_PRODUCTS products, or of a product scope (SCOPE_CHUNKS).
    """

    chunk_sql: str
    product_sql: str
    params: dict  # v_lists, v_low and v_high always: the caller's price lists and requested price range
    small_category: bool = False
    listed_sql: str = CATEGORY_CHUNKS

    def where(self, params: dict) -> dict:
        """Return the leg's parameters merged with the visibility ones."""
        return {**params, **self.params}

    @property
    def category_sql(self) -> str:
        """The category filter alone, over a product aliased `p` ("TRUE" without one): for a leg to narrow
        its candidates early (`product_sql` still decides)."""
        return IN_CATEGORY if "v_category" in self.params else "TRUE"

    @property
    def category_chunks_sql(self) -> str:
        """The ids of the small category's (or product scope's) live leaf chunks: listed once per search, or
        read here."""
        return LISTED_CHUNKS if "v_chunks" in self.params else self.listed_sql


def with_category_chunks(visibility: Visibility) -> Visibility:
    """The same visibility with its small category's chunk ids read once, for the legs of one search to
    share instead of each reading them."""
    if not visibility.small_category or "v_chunks" in visibility.params:
        return visibility
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM ({visibility.listed_sql}) AS listed",
            visibility.params,
        )
        listed = cursor.fetchone()[0]
    return replace(visibility, params={**visibility.params, "v_chunks": listed})


def visibility_for(
    caller: Caller,
    filters: SearchFilters = NO_FILTERS,
    *,
    locale: str | None = None,
    product_scope: tuple[int, ...] | None = None,
    with_policies: bool = False,
) -> Visibility:
    """Build the caller's visibility for these filters, the locale to keep to and an optional product scope
    (with the tenant's policies when `with_policies`, unless a product filter leaves policies out anyway)."""
    tenant_id = caller.tenant_id
    params: dict = {"v_tenant": tenant_id}
    product = ["p.tenant_id = %(v_tenant)s", "p.is_active"]
    entitled = category_entitled_ids(caller=caller)
    if entitled is not None:
        params["v_entitled"] = sorted(entitled)
        product.append("p.category_id = ANY(%(v_entitled)s)")
    small = False
    if filters.category:
        params["v_category"] = category_subtree_ids_by_slug(tenant_id=tenant_id, slug=filters.category)
        product.append(IN_CATEGORY)
        small = _small_category(params["v_category"])
    if filters.compliance_category:
        params["v_compliance"] = filters.compliance_category
        product.append("p.compliance_category = %(v_compliance)s")
    if product_scope is not None:
        params["v_products"] = sorted(product_scope)
        product.append("p.id = ANY(%(v_products)s)")
    params["v_lists"] = list(price_lists_for(caller=caller).values_list("pk", flat=True))
    params["v_low"], params["v_high"] = filters.price_min, filters.price_max
    sku_conditions = _sku_conditions(filters, params)

    product_sql = " AND ".join(product + [c.format(scope=_PRODUCT_SKU_SCOPE) for c in sku_conditions])
    scoped = (
        "(c.product_id IS NOT NULL"
        f" AND EXISTS (SELECT 1 FROM catalog_product p WHERE p.id = c.product_id AND {' AND '.join(product)})"
        f" AND {_chunk_skus(sku_conditions)})"
    )
    policies = with_policies and product_scope is not None and not filters.narrows_products
    if policies:
        visible = f"({scoped} OR {POLICY_CHUNK})"
    elif filters.narrows_products or product_scope is not None:
        visible = scoped  # product filters: policies and documents without a product cannot match them
    else:
        unscoped = "c.product_id IS NULL"
        if entitled is not None:  # a document filed under a category follows that category's entitlement
            unscoped += " AND (c.category_id IS NULL OR c.category_id = ANY(%(v_entitled)s))"
        visible = f"({scoped} OR ({unscoped}))"
    chunk = ["c.tenant_id = %(v_tenant)s", "c.retired_at IS NULL", "c.is_leaf", visible]
    if locale:
        params["v_locale"] = locale
        chunk.append("c.locale = %(v_locale)s")
    if product_scope is not None:  # narrower than any category: its chunks are scored exactly
        listed = SCOPE_CHUNKS + (SCOPE_POLICY_CHUNKS if policies else "")
        return Visibility(" AND ".join(chunk), product_sql, params, True, listed)
    return Visibility(" AND ".join(chunk), product_sql, params, small)


def _small_category(category_ids: list[int]) -> bool:
    """Whether these categories (the caller's tenant's) hold few products, counted up to the limit.

    Only the category index is read (an index-only scan): the count picks a search path, while the
    tenant and every other condition are still checked inside each leg's query.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM catalog_product WHERE category_id = ANY(%s) LIMIT %s) AS capped",
            [category_ids, EXACT_CATEGORY_MAX_PRODUCTS + 1],
        )
        return cursor.fetchone()[0] <= EXACT_CATEGORY_MAX_PRODUCTS


def _chunk_skus(sku_conditions: list[str]) -> str:
    """A chunk's SKU conditions: a SKU chunk's own SKU is active and meets them; a product chunk's product
    has SKUs that do. Split by kind, a SKU chunk's check is a primary-key lookup rather than a walk over its
    product's SKUs."""
    if not sku_conditions:
        return f"(c.source_kind <> 'sku' OR {_SKU_ACTIVE})"
    own = [_SKU_ACTIVE] + [c.format(scope=_OWN_SKU_SCOPE) for c in sku_conditions]  # active: `NOT STOCKED` too
    product = " AND ".join(c.format(scope=_CHUNK_PRODUCT_SKU_SCOPE) for c in sku_conditions)
    return f"CASE WHEN c.source_kind = 'sku' THEN {' AND '.join(own)} ELSE {product} END"


def _sku_conditions(filters: SearchFilters, params: dict) -> list[str]:
    """Stock and price conditions over the SKUs in `{scope}` (filled in per alias by the caller)."""
    conditions = []
    if filters.in_stock is not None:
        conditions.append(STOCKED if filters.in_stock else f"NOT {STOCKED}")
    if params["v_low"] is not None or params["v_high"] is not None:
        conditions.append(f"EXISTS (SELECT 1 {PRICED})")
    return conditions
