"""The fuzzy leg: pg_trgm on product titles, brands and SKU codes, for misspellings and partial codes.

It returns the live chunks of the matching products and SKUs, tenant filter inside the query.
"""

from dataclasses import dataclass

from django.db import connection, transaction

from knowledge.models import Chunk
from knowledge.retrieval.visibility import Visibility

WORD_SIMILARITY_THRESHOLD = 0.35  # one or two typos in a short title word still match; 0.6 (default) misses them
QUERY_MAX_CHARS = 200  # titles and codes are short: a longer "query" is not a title
MAX_K = 200

# `{product}` and `{chunk}` are the caller's visibility (or the tenant alone): applied before each LIMIT,
# so a selective filter still finds its k matches.
_SQL = """
    WITH products AS (
        SELECT p.id, greatest(word_similarity(%(q)s, p.title), similarity(%(q)s, p.brand)) AS score
        FROM catalog_product p
        WHERE {product} AND (%(q)s <%% p.title OR p.brand %% %(q)s)
        ORDER BY score DESC LIMIT %(k)s
    ), skus AS (
        SELECT s.id, greatest(similarity(%(q)s, s.code), CASE WHEN s.code ILIKE %(like)s THEN 0.9 ELSE 0 END) AS score
        FROM catalog_sku s JOIN catalog_product p ON p.id = s.product_id
        WHERE s.tenant_id = %(tenant)s AND s.is_active AND {product} AND (s.code %% %(q)s OR s.code ILIKE %(like)s)
        ORDER BY score DESC LIMIT %(k)s
    ), matched AS (
        SELECT 'product' AS kind, id, score FROM products UNION ALL SELECT 'sku', id, score FROM skus
    )
    SELECT DISTINCT ON (c.id) c.id, m.score
    FROM matched m JOIN knowledge_chunk c ON c.source_kind = m.kind AND c.source_id = m.id
    WHERE {chunk}
    ORDER BY c.id
"""
_TENANT_PRODUCT = "p.tenant_id = %(tenant)s AND p.is_active"
_TENANT_CHUNK = "c.tenant_id = %(tenant)s AND c.retired_at IS NULL AND c.is_leaf"


@dataclass(frozen=True)
class FuzzyHit:
    chunk: Chunk
    score: float


def chunk_search_fuzzy(
    *, tenant_id: int, query: str, k: int = 10, visibility: Visibility | None = None
) -> list[FuzzyHit]:
    """Return chunks of the tenant's products and SKUs whose title, brand or code resembles `query`."""
    rows = chunk_search_fuzzy_ids(tenant_id=tenant_id, query=query, k=k, visibility=visibility)
    chunks = Chunk.objects.in_bulk([cid for cid, _ in rows])
    return [FuzzyHit(chunks[cid], score) for cid, score in rows if cid in chunks]


def chunk_search_fuzzy_ids(
    *, tenant_id: int, query: str, k: int = 10, visibility: Visibility | None = None
) -> list[tuple[int, float]]:
    """Return (chunk id, similarity) pairs, best first, of the visible chunks matching `query`."""
    query = " ".join(query.split())[:QUERY_MAX_CHARS]
    if len(query.strip(".,;:!?-_/\\'\"()[]{}")) < 2:
        return []  # trigram similarity needs a few characters
    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    params = {"q": query, "like": like, "tenant": tenant_id, "k": min(k, MAX_K)}
    sql = _SQL.format(product=_TENANT_PRODUCT, chunk=_TENANT_CHUNK)
    if visibility is not None:
        sql = _SQL.format(product=visibility.product_sql, chunk=visibility.chunk_sql)
        params = visibility.where(params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL pg_trgm.word_similarity_threshold = {WORD_SIMILARITY_THRESHOLD}")
        cursor.execute(sql, params)
        rows = sorted(cursor.fetchall(), key=lambda row: (-row[1], row[0]))[: params["k"]]
    return [(cid, float(score)) for cid, score in rows]
