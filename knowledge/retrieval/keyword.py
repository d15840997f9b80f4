"""The keyword leg: exact BM25 over the postings table, pruned with MaxScore, the caller's filters inside.

Per locale, the query's lexemes are looked up in the term statistics (document frequency, and bounds on
a posting's term weight). Scoring every posting of every query term is exact but reads all of them: at 1M
SKUs a colour or a category noun holds 100k postings. MaxScore (Turtle and Flood, 1995) reads fewer and
stays exact:

1. The chunks holding the rarest query term (with, when it is rare, some holding both the next two) are
   scored over every term; the k-th best score among the visible ones is a threshold that the final k-th
   score can only exceed.
2. The terms whose summed weight bounds stay below that threshold are non-essential: a chunk holding only
   those cannot enter the top k. The chunks holding an essential term are read, and only those whose
   essential score plus the non-essential bounds reach the threshold are scored in full.

A category filter of few products (`Visibility.small_category`) scores that category's chunks directly.
"""

import math
from dataclasses import dataclass

from django.db import connection, transaction

from knowledge.models import Chunk
from knowledge.retrieval.visibility import CATEGORY_CHUNKS, Visibility
from knowledge.services.postings import BM25_B, BM25_K1, TS_CONFIGS, ts_config_sql

# Robertson/Sparck Jones BM25 with Lucene's idf. On SciFact (evaluate_retrieval) k1=1.2, b=0.75 scored
# nDCG@10 0.690 against 0.687 for Anserini's k1=0.9, b=0.4 and 0.688 for bm25s's k1=1.5, b=0.75.
QUERY_MAX_CHARS = 4_000  # to_tsvector over a pasted book is wasted work; the head carries the intent
QUERY_MAX_TERMS = 64  # distinct lexemes scored at most: bounds the postings read by one query
MAX_K = 1_000
WORK_MEM = "64MB"  # the per-chunk sums of common terms stay in memory instead of spilling to disk
# The pivot chunks are joined by those holding the next two rarest terms when the pivot term is this rare
# (at 1M SKUs, bench/search_latency.py: keyword leg p50 56 -> 44, p95 150 -> 81 ms; same results).
PAIR_PIVOT_MAX_DF, PAIR_MAX = 5_000, 500
EPSILON = 1e-9  # float sums in SQL and Python may differ in the last bits: prune only beyond that


@dataclass(frozen=True)
class KeywordHit:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class QueryTerm:
    term: str
    df: int
    idf: float
    bound: float  # no posting of the term weighs more: idf x the tf part at its largest tf and shortest chunk


@dataclass(frozen=True)
class LocaleQuery:
    locale: str
    avgdl: float
    terms: list[QueryTerm]  # rarest first


# The query is parsed in each locale's configuration (same stemming and stop words as the postings).
_TERMS_SQL = f"""
    SELECT s.locale, s.chunks, s.lexemes::float8 / greatest(s.chunks, 1),
           ts.term, ts.df, ts.max_tf, ts.min_dl, ts.max_weight, ts.weight_avgdl
    FROM knowledge_keywordstats s
    CROSS JOIN LATERAL (
        SELECT u.lexeme AS term FROM unnest(to_tsvector({ts_config_sql("s.locale")}, %(query)s)) AS u
        LIMIT {QUERY_MAX_TERMS}
    ) AS q
    JOIN knowledge_termstats ts ON ts.tenant_id = s.tenant_id AND ts.locale = s.locale AND ts.term = q.term
    WHERE s.tenant_id = %(tenant)s AND s.chunks > 0 AND ts.df > 0
      AND (%(locale)s::text IS NULL OR s.locale = %(locale)s)
    ORDER BY s.locale, ts.df, ts.term
"""
_WEIGHT = (
    "q.idf * p.tf * (%(k1)s::float8 + 1)"
    " / (p.tf + %(k1)s::float8 * (1 - %(b)s::float8 + %(b)s::float8 * p.dl / %(avgdl)s::float8))"
)
# The postings of the terms `{terms}` (weights `{idfs}`); `{restrict}` narrows each term's index scan.
_POSTINGS = """
    FROM unnest(%({terms})s::text[], %({idfs})s::float8[]) AS q(term, idf)
    CROSS JOIN LATERAL (
        SELECT p.chunk_id, p.tf, p.dl FROM knowledge_posting p
        WHERE p.tenant_id = %(tenant)s AND p.locale = %(locale)s AND p.term = q.term {restrict}
    ) AS p
"""
_SCORED = f"SELECT p.chunk_id, sum({_WEIGHT}) AS score " + _POSTINGS.format(
    terms="terms", idfs="idfs", restrict="{restrict}"
)


def _along(ids_sql: str) -> str:
    """Restrict each term's postings to the chunk ids `ids_sql` selects, walked as one sorted array along the
    term's own index (OFFSET 0 keeps the planner from fetching every posting of each chunk instead)."""
    return f"AND p.chunk_id = ANY(ARRAY(SELECT * FROM ({ids_sql}) AS ids ORDER BY 1)) OFFSET 0"


_TERM_IDS = (
    "SELECT {x}.chunk_id FROM knowledge_posting {x}"
    " WHERE {x}.tenant_id = %(tenant)s AND {x}.locale = %(locale)s AND {x}.term = %({term})s"
)
_IN_PIVOT = _along(_TERM_IDS.format(x="x", term="pivot"))
# With a rare pivot term, its chunks' k-th score is a low threshold: in "Marora Glacier R310 USB-C Charger"
# the R310's chunks mostly share only that code. Adding (up to PAIR_MAX of) the chunks holding both the
# next two rarest terms, the Marora chargers, raises it; the second term is read along the first's ids.
_IN_PIVOT_AND_PAIR = _along(
    f"{_TERM_IDS.format(x='x', term='pivot')} UNION ({_TERM_IDS.format(x='y', term='pair_b')}"
    f" AND y.chunk_id = ANY(ARRAY({_TERM_IDS.format(x='z', term='pair_a')} ORDER BY 1)) LIMIT %(pair_max)s)"
)
_IN_CATEGORY = _along(CATEGORY_CHUNKS)
_IN_CANDIDATES = _along("SELECT chunk_id FROM candidates")
# MaxScore's second step: chunks holding an essential term whose essential score plus the bounds of the
# other terms reaches the threshold.
_CANDIDATES = f"""candidates AS MATERIALIZED (
        SELECT p.chunk_id, sum({_WEIGHT}) AS partial
        {_POSTINGS.format(terms="e_terms", idfs="e_idfs", restrict="")}
        GROUP BY p.chunk_id HAVING sum({_WEIGHT}) + %(ne_bound)s::float8 >= %(theta)s::float8
    ), rest AS (
        SELECT p.chunk_id, sum({_WEIGHT}) AS partial
        {_POSTINGS.format(terms="ne_terms", idfs="ne_idfs", restrict=_IN_CANDIDATES)}
        GROUP BY p.chunk_id
    ), """
# Only chunks reaching the threshold can be in the top k: the others are dropped before the final sort.
_RESCORED = """SELECT c.chunk_id, c.partial + coalesce(r.partial, 0) AS score
    FROM candidates c LEFT JOIN rest r USING (chunk_id)
    WHERE c.partial + coalesce(r.partial, 0) >= %(theta)s::float8 - %(epsilon)s::float8"""
# Scores are ordered at 1e-9: the same chunk summed in another order (another path, another plan) differs in
# the last bits, and equal chunks (SKUs sharing a text) would then swap places from one request to the next.
ORDER = "round(score * 1e9::float8) DESC, chunk_id"
_TOP = f"SELECT chunk_id, score FROM scored ORDER BY {ORDER} LIMIT %(k)s"
# Visibility is checked chunk by chunk, best first, until k have passed: most callers see most chunks, so
# few are checked; under a selective filter, as many as it takes (the LATERAL join keeps the sorted order).
_VISIBLE_TAIL = """SELECT s.chunk_id, s.score FROM (SELECT chunk_id, score FROM scored ORDER BY {order}) AS s
    CROSS JOIN LATERAL (SELECT 1 FROM knowledge_chunk c WHERE c.id = s.chunk_id AND {where}) AS visible
    LIMIT %(k)s"""


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
    Statistics (N, avgdl, df) stay those of the whole tenant and locale: a filter narrows what is returned,
    never how a term is weighted, so a chunk scores the same with or without filters.
    """
    query = (query or "")[:QUERY_MAX_CHARS].replace("\x00", " ")
    if visibility is not None:
        locale = visibility.params.get("v_locale", locale)
    k = max(0, min(k, MAX_K))
    if not query.strip() or k == 0 or (locale is not None and locale not in TS_CONFIGS):
        return []
    rows = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        for lq in query_terms(tenant_id=tenant_id, query=query, locale=locale, k1=k1, b=b):
            params = {"tenant": tenant_id, "locale": lq.locale, "avgdl": lq.avgdl, "k1": k1, "b": b, "k": k}
            rows += _locale_top(lq, params, visibility)
    return sorted(rows, key=lambda row: (-round(row[1] * 1e9), row[0]))[:k]


def query_terms(*, tenant_id: int, query: str, locale: str | None, k1: float, b: float) -> list[LocaleQuery]:
    """Return the query's lexemes known to the tenant, per locale, with their idf and weight bounds."""
    with connection.cursor() as cursor:
        cursor.execute(_TERMS_SQL, {"tenant": tenant_id, "locale": locale, "query": query})
        rows = cursor.fetchall()
    out: dict[str, LocaleQuery] = {}
    for loc, n, avgdl, term, df, max_tf, min_dl, max_weight, weight_avgdl in rows:
        lq = out.setdefault(loc, LocaleQuery(loc, avgdl, []))
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        tf_part = max_tf * (k1 + 1) / (max_tf + k1 * (1 - b + b * min_dl / avgdl))
        if (k1, b) == (BM25_K1, BM25_B) and weight_avgdl > 0:
            tf_part = min(tf_part, max_weight * max(1.0, avgdl / weight_avgdl))
        lq.terms.append(QueryTerm(term, df, idf, idf * tf_part))
    return list(out.values())


def _locale_top(lq: LocaleQuery, params: dict, visibility: Visibility | None) -> list[tuple[int, float]]:
    params = {**params, "terms": [t.term for t in lq.terms], "idfs": [t.idf for t in lq.terms]}
    if visibility is not None and visibility.small_category:
        return _top("", _SCORED.format(restrict=_IN_CATEGORY), params, visibility)
    if len(lq.terms) == 1:
        return _top("", _SCORED.format(restrict=""), params, visibility)
    pivot = lq.terms[0]
    first = _top("", *_pivot_set(lq, params), visibility)
    if len(first) < params["k"]:
        return _top("", _SCORED.format(restrict=""), params, visibility)  # no threshold: every posting is scored
    theta = min(score for _, score in first)  # the k-th visible score, or a hair below it
    essential, non_essential = _split(lq.terms, theta)
    if not [t for t in essential if t is not pivot]:
        return first  # every chunk without the pivot term scores below the k-th chunk with it
    params |= {
        "e_terms": [t.term for t in essential],
        "e_idfs": [t.idf for t in essential],
        "ne_bound": sum(t.bound for t in non_essential) + EPSILON,
        "theta": theta,
        "epsilon": EPSILON,
        "ne_terms": [t.term for t in non_essential],
        "ne_idfs": [t.idf for t in non_essential],
    }
    second = _top(_CANDIDATES, _RESCORED, params, visibility, grouped=True)
    return list(dict(first + second).items())


def _pivot_set(lq: LocaleQuery, params: dict) -> tuple[str, dict]:
    """The first step's scored chunks and parameters: those holding the rarest term, plus, when that term
    is rare, some holding the next two. Any set holding every chunk of the pivot term keeps the leg exact:
    its k-th visible score is a threshold the true k-th score reaches, and the pivot term's chunks are all
    scored (see `_locale_top`)."""
    pivot = lq.terms[0]
    if len(lq.terms) < 3 or pivot.df > PAIR_PIVOT_MAX_DF:
        return _SCORED.format(restrict=_IN_PIVOT), {**params, "pivot": pivot.term}
    pair = {"pivot": pivot.term, "pair_a": lq.terms[1].term, "pair_b": lq.terms[2].term, "pair_max": PAIR_MAX}
    return _SCORED.format(restrict=_IN_PIVOT_AND_PAIR), {**params, **pair}


def _split(terms: list[QueryTerm], theta: float) -> tuple[list[QueryTerm], list[QueryTerm]]:
    """Split into essential terms and the largest set of smallest-bound terms whose bounds sum below theta."""
    by_bound = sorted(terms, key=lambda t: (t.bound, t.term))
    total, cut = 0.0, 0
    for term in by_bound:
        if total + term.bound >= theta - EPSILON:
            break
        total += term.bound
        cut += 1
    return by_bound[cut:], by_bound[:cut]


def _top(
    ctes: str, scored: str, params: dict, visibility: Visibility | None, grouped: bool = False
) -> list[tuple[int, float]]:
    """Return the best k of `scored` (visible ones only, with `visibility`)."""
    head = f"WITH {ctes}scored AS MATERIALIZED ({scored}{'' if grouped else ' GROUP BY p.chunk_id'})"
    if visibility is None:
        return _rows(f"{head} {_TOP}", params)
    tail = _VISIBLE_TAIL.format(where=visibility.chunk_sql, order=ORDER)
    return _rows(f"{head} {tail}", visibility.where(params))


def _rows(sql: str, params: dict) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(cid, float(score)) for cid, score in cursor.fetchall()]
