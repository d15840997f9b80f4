"""The keyword leg: BM25 over the postings table, in one SQL statement, tenant filter inside it."""

from dataclasses import dataclass

from django.db import connection

from knowledge.models import Chunk
from knowledge.retrieval.visibility import Visibility
from knowledge.services.postings import TS_CONFIGS, ts_config_sql

# Robertson/Sparck Jones BM25 with Lucene's idf. On SciFact (evaluate_retrieval) k1=1.2, b=0.75 scored
# nDCG@10 0.690 against 0.687 for Anserini's k1=0.9, b=0.4 and 0.688 for bm25s's k1=1.5, b=0.75.
BM25_K1 = 1.2
BM25_B = 0.75
QUERY_MAX_CHARS = 4_000  # to_tsvector over a pasted book is wasted work; the head carries the intent
QUERY_MAX_TERMS = 64  # distinct lexemes scored at most: bounds the postings read by one query
MAX_K = 1_000


@dataclass(frozen=True)
class KeywordHit:
    chunk: Chunk
    score: float


# The query is parsed per locale in that locale's configuration (same stemming and stop words as
# the postings); document frequencies are counted from the postings read for the query terms.
_SQL = f"""
    WITH locales AS MATERIALIZED (
        SELECT s.locale, s.chunks::float8 AS n, s.lexemes::float8 / greatest(s.chunks, 1) AS avgdl
        FROM knowledge_keywordstats s
        WHERE s.tenant_id = %(tenant)s AND s.chunks > 0 AND (%(locale)s::text IS NULL OR s.locale = %(locale)s)
    ), terms AS MATERIALIZED (
        SELECT l.locale, l.n, l.avgdl, q.term
        FROM locales l, LATERAL (
            SELECT u.lexeme AS term FROM unnest(to_tsvector({ts_config_sql("l.locale")}, %(query)s)) AS u
            LIMIT {QUERY_MAX_TERMS}
        ) AS q
    ), hits AS MATERIALIZED (
        SELECT t.locale, t.n, t.avgdl, t.term, p.chunk_id, p.tf::float8 AS tf, p.dl::float8 AS dl
        FROM terms t, LATERAL (
            SELECT p.chunk_id, p.tf, p.dl FROM knowledge_posting p
            WHERE p.tenant_id = %(tenant)s AND p.locale = t.locale AND p.term = t.term
        ) AS p
    ), df AS (
        SELECT locale, term, count(*)::float8 AS df FROM hits GROUP BY locale, term
    ), scored AS (
        SELECT h.chunk_id,
               sum(ln(1 + (h.n - d.df + 0.5) / (d.df + 0.5))
                   * h.tf * (%(k1)s::float8 + 1)
                   / (h.tf + %(k1)s::float8 * (1 - %(b)s::float8 + %(b)s::float8 * h.dl / h.avgdl))) AS score
        FROM hits h JOIN df d USING (locale, term)
        GROUP BY h.chunk_id
    )
"""
# Statistics (N, avgdl, df) stay those of the whole tenant and locale: a filter narrows what is returned,
# never how a term is weighted, so a chunk scores the same with or without filters.
_SQL_ALL = _SQL + "SELECT chunk_id, score FROM scored ORDER BY score DESC, chunk_id LIMIT %(k)s"
_VISIBLE_TAIL = """SELECT s.chunk_id, s.score FROM scored s JOIN knowledge_chunk c ON c.id = s.chunk_id
    WHERE {where} ORDER BY s.score DESC, s.chunk_id LIMIT %(k)s"""
# First try: check visibility on the best `probe` chunks only (most callers see most chunks, so the top k
# is almost always among them); only when fewer than k survive is every scored chunk checked.
_PROBE_TAIL = """, top AS MATERIALIZED (
        SELECT chunk_id, score FROM scored ORDER BY score DESC, chunk_id LIMIT %(probe)s
    )
    SELECT s.chunk_id, s.score FROM top s JOIN knowledge_chunk c ON c.id = s.chunk_id
    WHERE {where} ORDER BY s.score DESC, s.chunk_id LIMIT %(k)s"""
PROBE_FACTOR, PROBE_MIN = 5, 500


def chunk_search_keyword(
    *, tenant_id: int, query: str, k: int = 10, locale: str | None = None, k1: float = BM25_K1, b: float = BM25_B
) -> list[KeywordHit]:
    """Return the tenant's live leaf chunks ranked by BM25 for `query` (in `locale`, or every locale)."""
    rows = chunk_search_keyword_ids(tenant_id=tenant_id, query=query, k=k, locale=locale, k1=k1, b=b)
    chunks = Chunk.objects.in_bulk([cid for cid, _ in rows])
    return [KeywordHit(chunks[cid], score) for cid, score in rows if cid in chunks]


def chunk_search_keyword_ids(
    *,
    tenant_id: int,
    query: str,
    k: int = 10,
    locale: str | None = None,
    k1: float = BM25_K1,
    b: float = BM25_B,
    visibility: Visibility | None = None,
) -> list[tuple[int, float]]:
    """Return (chunk id, BM25 score) pairs, best first, without loading the chunks.

    With `visibility`, only chunks the caller may see are returned (its locale filter, if any, applies too).
    """
    query = (query or "")[:QUERY_MAX_CHARS].replace("\x00", " ")
    if visibility is not None:
        locale = visibility.params.get("v_locale", locale)
    if not query.strip() or (locale is not None and locale not in TS_CONFIGS):
        return []
    params = {"tenant": tenant_id, "locale": locale, "query": query, "k": max(0, min(k, MAX_K)), "k1": k1, "b": b}
    if visibility is None:
        return _rows(_SQL_ALL, params)
    params = visibility.where({**params, "probe": max(PROBE_MIN, PROBE_FACTOR * params["k"])})
    rows = _rows(_SQL.rstrip() + _PROBE_TAIL.format(where=visibility.chunk_sql), params)
    if len(rows) < params["k"]:
        rows = _rows(_SQL + _VISIBLE_TAIL.format(where=visibility.chunk_sql), params)
    return rows


def _rows(sql: str, params: dict) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(cid, float(score)) for cid, score in cursor.fetchall()]
