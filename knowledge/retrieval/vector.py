"""The vector leg: the nearest live chunks to a query in the serving embedding space (HNSW, or exact within a
small category). Tenant and visibility filtering happen inside the query."""

from dataclasses import dataclass

from django.db import connection, transaction

from knowledge import embedding
from knowledge.models import Chunk, EmbeddingSpace
from knowledge.query_encoder import encode_query
from knowledge.retrieval.visibility import Visibility
from knowledge.services.spaces import active_space

EF_SEARCH = 100  # candidate list per HNSW probe: near-exact recall@10 on 384-d MiniLM (evaluate_retrieval)
MAX_K = 200


@dataclass(frozen=True)
class VectorHit:
    chunk: Chunk
    distance: float

    @property
    def score(self) -> float:
        return 1.0 - self.distance


def chunk_search_vector(
    *, tenant_id: int, query: str, k: int = 10, locale: str | None = None, space: EmbeddingSpace | None = None
) -> list[VectorHit]:
    """Return the tenant's live leaf chunks nearest to `query` in the serving space (HNSW, iterative scan)."""
    space = space or active_space()
    vector = query_vector(query, space)
    if vector is None:
        return []
    return chunk_search_vector_by(tenant_id=tenant_id, vector=vector, k=k, locale=locale, space=space)


def chunk_search_vector_ids(
    *,
    tenant_id: int,
    query: str,
    k: int,
    space: EmbeddingSpace | None,
    visibility: Visibility | None = None,
    vector=None,
) -> list[tuple[int, float]]:
    """Return (chunk id, cosine similarity) pairs, best first, without loading the chunks.

    `vector`, when the caller already encoded `query` (`query_vector`), saves encoding it again.
    """
    if vector is None:
        vector = query_vector(query, space)
    if vector is None or space is None:
        return []
    rows = _nearest(tenant_id=tenant_id, vector=vector, k=k, locale=None, space=space, visibility=visibility)
    return [(cid, 1.0 - distance) for cid, distance in rows]


def query_vector(query: str, space: EmbeddingSpace | None):
    """Encode the query in the space's model; None when there is no space or nothing to encode."""
    if space is None or not query.strip():
        return None
    return encode_query(embedding.model_path_for(space), query)


def chunk_search_vector_by(
    *, tenant_id: int, vector, k: int, locale: str | None, space: EmbeddingSpace, visibility: Visibility | None = None
):
    """Return the nearest visible chunks to `vector`; `visibility` (else tenant and locale) filters inside the scan."""
    rows = _nearest(tenant_id=tenant_id, vector=vector, k=k, locale=locale, space=space, visibility=visibility)
    chunks = Chunk.objects.in_bulk([r[0] for r in rows])
    return [VectorHit(chunks[cid], dist) for cid, dist in rows if cid in chunks]


# A category filter whose subtree is small (visibility.EXACT_CATEGORY_MAX_PRODUCTS) is searched exactly:
# the distance to each of their chunks (a few thousand), nearest first, checked for the rest of the
# visibility until k pass. The embeddings are read along the chunks' sorted ids, one walk of the index
# rather than a descent per chunk. Exact, and faster than the iterative HNSW scan for such categories
# (bench/search_latency.py's filtered queries).
# `{where}` is checked per row in distance order (the LATERAL join, kept apart by its LIMIT 1, keeps the
# order): stock and price sub-queries run for the nearest chunks only, until k have passed. Distances are
# sorted outside the materialized CTE on purpose: an ORDER BY next to the embeddings lets the planner
# pick the HNSW index scan, which (without iterative scan) yields only ef_search rows of the whole space,
# and then none of the category's.
EXACT_PRESELECT = 4  # times k: the nearest chunks of a small category checked for visibility first
_EXACT_IN_CATEGORY = """
    WITH scored AS MATERIALIZED (
        SELECT e.chunk_id, e.embedding::vector({dims}) <=> %(q)s::vector({dims}) AS distance
        FROM knowledge_chunkembedding e
        WHERE e.space_id = %(space)s
          AND e.chunk_id = ANY(ARRAY(SELECT * FROM ({category_chunks}) AS category_chunks ORDER BY 1))
    )
    SELECT s.chunk_id, s.distance FROM (
        (SELECT * FROM scored ORDER BY distance, chunk_id LIMIT %(pre)s)
        UNION ALL
        (SELECT * FROM (SELECT * FROM scored ORDER BY distance, chunk_id OFFSET %(pre)s) AS rest)
    ) AS s
    CROSS JOIN LATERAL (SELECT 1 FROM knowledge_chunk c WHERE c.id = s.chunk_id AND {where} LIMIT 1) AS visible
    LIMIT %(k)s
"""


def _nearest(
    *, tenant_id: int, vector, k: int, locale: str | None, space: EmbeddingSpace, visibility: Visibility | None
) -> list[tuple[int, float]]:
    dims = int(space.dimensions)
    if visibility is not None and visibility.small_category:
        return _exact_in_category(vector, min(k, MAX_K), space, visibility)
    if visibility is not None:
        where = visibility.chunk_sql
    else:
        where = "c.tenant_id = %(tenant)s AND c.retired_at IS NULL" + (" AND c.locale = %(locale)s" if locale else "")
    # relaxed_order may return neighbours slightly out of order: re-sort the materialized top k.
    sql = f"""
        WITH nearest AS MATERIALIZED (
            SELECT e.chunk_id, e.embedding::vector({dims}) <=> %(q)s::vector({dims}) AS distance
            FROM knowledge_chunkembedding e JOIN knowledge_chunk c ON c.id = e.chunk_id
            WHERE e.space_id = %(space)s AND {where}
            ORDER BY distance LIMIT %(k)s
        ) SELECT chunk_id, distance FROM nearest ORDER BY distance
    """
    params = {"q": vector_literal(vector), "space": space.pk, "tenant": tenant_id, "k": min(k, MAX_K), "locale": locale}
    if visibility is not None:
        params = visibility.where(params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(sql, params)
        return [(cid, float(dist)) for cid, dist in cursor.fetchall()]


def _exact_in_category(vector, k: int, space: EmbeddingSpace, visibility: Visibility) -> list[tuple[int, float]]:
    """The k nearest visible chunks of a small category, exactly: the nearest EXACT_PRESELECT x k are checked
    first (a bounded sort, cheaper than sorting every distance); only if fewer than k of them are visible
    are the others sorted and checked, in the same statement (the distances are computed once)."""
    sql = _EXACT_IN_CATEGORY.format(
        dims=int(space.dimensions), where=visibility.chunk_sql, category_chunks=visibility.category_chunks_sql
    )
    params = visibility.where({"q": vector_literal(vector), "space": space.pk, "k": k, "pre": EXACT_PRESELECT * k})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(((cid, float(dist)) for cid, dist in rows), key=lambda r: (r[1], r[0]))


def vector_literal(vector) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"
