"""The keyword leg: exact BM25 over the postings table, pruned with MaxScore, the caller's filters inside.

Per locale, the query's lexemes are looked up in the term statistics (document frequency, and bounds on
a posting's term weight). Scoring every posting of every query term is exact but reads all of them: in a
large catalog a colour or a category noun holds a large share of all postings. MaxScore (Turtle and Flood,
1995) reads fewer and stays exact:

1. A threshold: the k-th best visible score of some chunks, which the final k-th score can only exceed.
   When the rarest term is common (a brand, a product noun), the chunks holding the most of the rarest
   terms give it (`_held_top`); if every one of those terms is required (a chunk without it cannot reach
   the threshold), they hold the top k and the leg is done. Otherwise the chunks holding the rarest term
   (with, when it is rare, some holding both the next two) are scored over every term.
2. The terms whose summed weight bounds stay below that threshold are non-essential: a chunk holding only
   those cannot enter the top k. The chunks holding an essential term are read, and those whose essential
   score plus the non-essential bounds reach the threshold get the other terms one at a time, largest
   bound first, until what they hold and what is left to add can no longer reach it.

A category filter of few products (`Visibility.small_category`) scores that category's chunks directly.

A tenant and locale with a keyword pack (knowledge.services.keyword_packs) are served from it instead
(knowledge.retrieval.packed): the same top k, summed in memory. This path serves the others, and filters
so selective that the packed path would check too many chunks for visibility.
"""

import math
from dataclasses import dataclass

from django.db import connection, transaction

from knowledge.models import Chunk
from knowledge.retrieval.packed import packed_top
from knowledge.retrieval.visibility import Visibility
from knowledge.services.postings import BM25_B, BM25_K1, TS_CONFIGS, tf_part, ts_config_sql

# Robertson/Sparck Jones BM25 with Lucene's idf; k1 and b (knowledge.services.postings) were chosen with
# `manage.py evaluate_retrieval` on SciFact (docs/benchmarks.md).
QUERY_MAX_CHARS = 4_000  # to_tsvector over a pasted book is wasted work; the head carries the intent
QUERY_MAX_TERMS = 64  # distinct lexemes scored at most: bounds the postings read by one query
MAX_K = 1_000
WORK_MEM = "64MB"  # the per-chunk sums of common terms stay in memory instead of spilling to disk
# The pivot chunks are joined by those holding the next two rarest terms when the pivot term is this rare:
# a higher threshold sooner, the same results.
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
    packed: bool = False  # the locale has a keyword pack


# The query is parsed in each locale's configuration (same stemming and stop words as the postings).
_TERMS_SQL = f"""
    SELECT s.locale, s.chunks, s.lexemes::float8 / greatest(s.chunks, 1),
           ts.term, ts.df, ts.max_tf, ts.min_dl, ts.max_weight, ts.weight_avgdl,
           EXISTS (SELECT 1 FROM knowledge_keywordpack k WHERE k.tenant_id = s.tenant_id AND k.locale = s.locale)
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
# The chunks holding the two rarest terms, then as many more (rarest first) as leave at least k of them.
_HELD_FIRST = "h1 AS MATERIALIZED (SELECT 2 AS held, ARRAY({ids}) AS ids)".format(
    ids=f"{_TERM_IDS.format(x='y', term='t1')} AND y.chunk_id = ANY(ARRAY({_TERM_IDS.format(x='x', term='t0')}))"
)
_HELD_NEXT = (
    "h{i} AS MATERIALIZED (SELECT {i} + 1 AS held,"
    " ARRAY({ids} AND x.chunk_id = ANY((SELECT ids FROM h{prev})::bigint[])) AS ids)"
)
_HELD_CHOSEN = """chosen AS MATERIALIZED (
        SELECT held, ids FROM ({levels}) AS l WHERE cardinality(ids) >= %(k)s ORDER BY held DESC LIMIT 1
    ), """
_HELD = ", (SELECT held FROM chosen)"
_IN_CHOSEN = "AND p.chunk_id = ANY((SELECT ids FROM chosen)::bigint[]) OFFSET 0"
HELD_MIN_DF = PAIR_PIVOT_MAX_DF  # rarer pivot terms are served as well by the pivot's chunks and pair
HELD_MAX_TERMS = 8  # the rarest terms a held chunk is looked for with


def _held_ctes(n: int) -> str:
    ctes = [_HELD_FIRST] + [
        _HELD_NEXT.format(i=i, prev=i - 1, ids=_TERM_IDS.format(x="x", term=f"t{i}")) for i in range(2, n)
    ]
    levels = " UNION ALL ".join(f"SELECT held, ids FROM h{i}" for i in range(1, n))
    return ", ".join(ctes) + ", " + _HELD_CHOSEN.format(levels=levels)


# MaxScore's second step: chunks holding an essential term whose essential score plus the bounds of the
# other terms reaches the threshold (s0). The other terms are then added one at a time, largest bound first,
# each read along the chunks still in the running, and a chunk is dropped as soon as its score plus the
# bounds of the terms still to come falls below the threshold (s1, s2, ...). Terms beyond CASCADE_MAX
# are added together at the end.
_CANDIDATES = f"""s0 AS MATERIALIZED (
        SELECT p.chunk_id, sum({_WEIGHT}) AS partial
        {_POSTINGS.format(terms="e_terms", idfs="e_idfs", restrict="")}
        GROUP BY p.chunk_id HAVING sum({_WEIGHT}) + %(ne_bound)s::float8 >= %(theta)s::float8
    ), """
_STAGE = """s{i} AS MATERIALIZED (
        SELECT c.chunk_id, c.partial + coalesce(w.weight, 0) AS partial FROM s{prev} c LEFT JOIN (
            SELECT p.chunk_id, {weight} AS weight FROM knowledge_posting p
            WHERE p.tenant_id = %(tenant)s AND p.locale = %(locale)s AND p.term = %(u{i})s {along}
        ) AS w USING (chunk_id)
        WHERE c.partial + coalesce(w.weight, 0) + %(after{i})s::float8 >= %(theta)s::float8
    ), """
_REST = """rest AS (
        SELECT p.chunk_id, sum({weight}) AS partial
        {postings}
        GROUP BY p.chunk_id
    ), """
# Only chunks reaching the threshold can be in the top k: the others are dropped before the final sort.
_RESCORED = """SELECT c.chunk_id, c.partial + coalesce(r.partial, 0) AS score
    FROM s{last} c LEFT JOIN rest r USING (chunk_id)
    WHERE c.partial + coalesce(r.partial, 0) >= %(theta)s::float8 - %(epsilon)s::float8"""
CASCADE_MAX = 6
CASCADE_MIN_POSTINGS = 5_000  # the essential terms' postings below which the other terms are added at once


def _cascade(stages: int) -> str:
    """The CTEs of MaxScore's second step with `stages` terms added one at a time."""
    ctes = [_CANDIDATES]
    for i in range(1, stages + 1):
        weight = _WEIGHT.replace("q.idf", f"%(u{i}_idf)s::float8")
        ctes.append(_STAGE.format(i=i, prev=i - 1, weight=weight, along=_along(f"SELECT chunk_id FROM s{i - 1}")))
    rest = _POSTINGS.format(terms="tail_terms", idfs="tail_idfs", restrict=_along(f"SELECT chunk_id FROM s{stages}"))
    return "".join(ctes) + _REST.format(weight=_WEIGHT, postings=rest)


# Scores are ordered at 1e-9: the same chunk summed in another order (another path, another plan) differs in
# the last bits, and equal chunks (SKUs sharing a text) would then swap places from one request to the next.
ORDER = "round(score * 1e9::float8) DESC, chunk_id"
_TOP = "SELECT chunk_id, score{extra} FROM scored ORDER BY " + ORDER + " LIMIT %(k)s"
# Visibility is checked chunk by chunk, best first, until k have passed: most callers see most chunks, so
# few are checked; under a selective filter, as many as it takes (the LATERAL join keeps the sorted order:
# its LIMIT 1 keeps it from being flattened into a join the planner could turn around).
_VISIBLE_TAIL = """SELECT s.chunk_id, s.score{extra} FROM (SELECT chunk_id, score FROM scored ORDER BY {order}) AS s
    CROSS JOIN LATERAL (SELECT 1 FROM knowledge_chunk c WHERE c.id = s.chunk_id AND {where} LIMIT 1) AS visible
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
    for loc, n, avgdl, term, df, max_tf, min_dl, max_weight, weight_avgdl, packed in rows:
        lq = out.setdefault(loc, LocaleQuery(loc, avgdl, [], packed))
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        bound = tf_part(max_tf, min_dl, avgdl, k1, b)
        if (k1, b) == (BM25_K1, BM25_B) and weight_avgdl > 0:
            bound = min(bound, max_weight * max(1.0, avgdl / weight_avgdl))
        lq.terms.append(QueryTerm(term, df, idf, idf * bound))
    return list(out.values())


def _locale_top(lq: LocaleQuery, params: dict, visibility: Visibility | None) -> list[tuple[int, float]]:
    packed = packed_top(lq, params, visibility) if lq.packed else None
    if packed is not None:
        return packed
    params = {**params, "terms": [t.term for t in lq.terms], "idfs": [t.idf for t in lq.terms]}
    if visibility is not None and visibility.small_category:
        return _top("", _SCORED.format(restrict=_along(visibility.category_chunks_sql)), params, visibility)
    if len(lq.terms) == 1:
        return _top("", _SCORED.format(restrict=""), params, visibility)
    first, done = _held_top(lq, params, visibility)
    if done:
        return first
    covers_pivot = len(first) < params["k"]  # without a threshold from the held chunks, the pivot's give one
    if covers_pivot:
        first = _top("", *_pivot_set(lq, params), visibility)
        if len(first) < params["k"]:
            return _top("", _SCORED.format(restrict=""), params, visibility)  # no threshold: every posting scored
    theta = min(score for _, score in first)  # the k-th visible score, or a hair below it
    essential, non_essential = _split(lq.terms, theta)
    if covers_pivot and not [t for t in essential if t is not lq.terms[0]]:
        return first  # every chunk without the pivot term scores below the k-th chunk with it
    second = _top(*_second_step(essential, non_essential, theta, params), visibility, grouped=True)
    return list(dict(first + second).items())


def _second_step(
    essential: list[QueryTerm], non_essential: list[QueryTerm], theta: float, params: dict
) -> tuple[str, str, dict]:
    """MaxScore's second step: its CTEs, its scored chunks and their parameters."""
    staged = sorted(non_essential, key=lambda t: (-t.bound, t.term))[:CASCADE_MAX]
    if sum(t.df for t in essential) < CASCADE_MIN_POSTINGS:
        staged = []  # few candidates: one pass over the other terms costs less than a statement per stage
    tail = [t for t in non_essential if t not in staged]
    params = params | {
        "e_terms": [t.term for t in essential],
        "e_idfs": [t.idf for t in essential],
        "ne_bound": sum(t.bound for t in non_essential) + EPSILON,
        "theta": theta,
        "epsilon": EPSILON,
        "tail_terms": [t.term for t in tail],
        "tail_idfs": [t.idf for t in tail],
    }
    after = sum(t.bound for t in tail) + EPSILON  # the bounds of the terms added after stage i
    for i, term in reversed(list(enumerate(staged, 1))):
        params |= {f"u{i}": term.term, f"u{i}_idf": term.idf, f"after{i}": after}
        after += term.bound
    return _cascade(len(staged)), _RESCORED.format(last=len(staged)), params


def _held_top(lq: LocaleQuery, params: dict, visibility: Visibility | None) -> tuple[list[tuple[int, float]], bool]:
    """The top k of the chunks holding the n rarest terms, n as large as leaves k of them, and whether it
    is the leg's top k ([] and False when fewer than k visible chunks hold the two rarest).

    Their k-th visible score is a threshold. A term whose absence leaves a chunk's other terms unable to
    reach it is required: when the n terms all are, the top k is among those chunks, all scored. The
    search is tried when the rarest term is common (a brand, a product noun); a rarer one, such as a model
    code, is handled as well by `_pivot_set`.
    """
    if lq.terms[0].df <= HELD_MIN_DF:
        return [], False
    terms = lq.terms[:HELD_MAX_TERMS]
    scored = _SCORED.format(restrict=_IN_CHOSEN)
    sql, params = _top_sql(_held_ctes(len(terms)), scored, params | _named(terms), visibility, extra=_HELD)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) < params["k"]:
        return [], False
    top, held = [(cid, float(score)) for cid, score, _ in rows], rows[0][2]
    theta = min(score for _, score in top)
    if set(lq.terms[:held]) <= set(_required(lq.terms, theta)):
        return top, True
    return top, False


def _required(terms: list[QueryTerm], theta: float) -> list[QueryTerm]:
    """The terms without which a chunk's other terms cannot reach `theta`: the top k hold every one."""
    total = sum(t.bound for t in terms)
    return [t for t in terms if total - t.bound < theta - EPSILON]


def _named(terms: list[QueryTerm]) -> dict:
    return {f"t{i}": t.term for i, t in enumerate(terms)}


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
    return _rows(*_top_sql(ctes, scored, params, visibility, grouped))


def _top_sql(
    ctes: str, scored: str, params: dict, visibility: Visibility | None, grouped: bool = False, extra: str = ""
) -> tuple[str, dict]:
    """The statement of `_top`; `extra` adds columns after the chunk id and score."""
    head = f"WITH {ctes}scored AS MATERIALIZED ({scored}{'' if grouped else ' GROUP BY p.chunk_id'})"
    if visibility is None:
        return f"{head} {_TOP.format(extra=extra)}", params
    tail = _VISIBLE_TAIL.format(where=visibility.chunk_sql, order=ORDER, extra=extra)
    return f"{head} {tail}", visibility.where(params)


def _rows(sql: str, params: dict) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(cid, float(score)) for cid, score in cursor.fetchall()]
