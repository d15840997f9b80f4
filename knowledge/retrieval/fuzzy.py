"""The fuzzy leg: pg_trgm on product titles, brands and SKU codes, for misspellings and partial codes.

It returns the first live passage (per locale) of each matching product and SKU, tenant filter inside the query.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction

from knowledge.models import Chunk
from knowledge.retrieval.visibility import Visibility
from knowledge.services.postings import ts_config_sql

WORD_SIMILARITY_THRESHOLD = 0.35  # one or two typos in a short title word still match; 0.6 (default) misses them
QUERY_MAX_CHARS = 200  # titles and codes are short: a longer "query" is not a title
# A whole title with a typo or two still shares most trigrams; a third-word threshold would let in every
# title that shares two common words with the query (thousands at a million SKUs), each rechecked.
LONG_WORD_SIMILARITY_THRESHOLD = 0.6
BRAND_SIMILARITY_THRESHOLD = 0.3  # pg_trgm's default similarity_threshold, which `brand % query` uses
# A misspelt title's other words, spelt as in the catalog, narrow the titles to rank to those holding them
# all; past this many, the words are too common to narrow anything and the trigram index is asked instead.
SPELT_MAX = 500
_TITLE_WORDS = "to_tsvector('simple'::regconfig, p.title::text)"  # the expression of index product_title_words
TITLE_MAX_WORDS = 8  # a question of more words is not a misspelt title; its trigrams would only cost time
MAX_K = 200
# What a SKU code typed into a search box looks like: the characters catalog.models allows, one digit at
# least (a lone word such as a misspelt brand is a title's, and would share trigrams with whole code ranges).
CODE_RE = re.compile(r"^(?=.*[0-9])[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _visible_best(ranked: str, product: str = "id") -> str:
    """The first k rows of `ranked` (id, score and the product column, best first) whose product the caller
    may see, checked in that order (the LATERAL join keeps it: its LIMIT 1 keeps it from being flattened into
    a join the planner could turn around)."""
    return f"""
        SELECT m.id, m.score FROM ({ranked}) AS m
        CROSS JOIN LATERAL (SELECT 1 FROM catalog_product p WHERE p.id = m.{product} AND {{product}} LIMIT 1) AS visible
        LIMIT %(k)s"""


def _ranked(narrowed: str) -> str:
    """The visible best k of the products listed by CTE `narrowed` that pass the similarity thresholds, or
    none when it listed more than SPELT_MAX (too common words: the next pass decides)."""
    return _visible_best(f"""
            SELECT id, greatest(title, brand) AS score FROM (
                SELECT p.id, word_similarity(%(q)s, p.title) AS title, similarity(%(q)s, p.brand) AS brand
                FROM {narrowed} n JOIN catalog_product p ON p.id = n.id
                WHERE (SELECT count(*) FROM {narrowed}) <= %(spelt_max)s
            ) AS scored
            WHERE title >= %(threshold)s OR brand >= {BRAND_SIMILARITY_THRESHOLD}
            ORDER BY score DESC, id""")


# `{product}` and `{chunk}` are the caller's visibility (or the tenant alone): each kind of match is ranked
# first, then checked for visibility best first until k pass (`_visible_best`), so a
# selective filter still finds its k matches and pays its stock and price checks on the best ones only.
# Titles and brands are matched by trigram similarity when the query has at most TITLE_MAX_WORDS words,
# one of which the keyword index does not know (no document frequency in any of the tenant's locales'
# term statistics): a query spelt as the catalog spells it is the keyword leg's, and its trigrams would
# only recheck thousands of titles sharing a common word. Titles are narrowed by the query's words that
# some title of the tenant holds as typed (full-text index lookups), in passes that
# each count when they list at most SPELT_MAX titles and one of them passes the threshold and the
# visibility: `spelt`, the titles holding all those words; then `one_word_off`, those holding all but one
# (another model number, a brand the query misspelt too). Only when the words are too few or too common to
# narrow the titles is the trigram index asked (the slowest path: most of its time goes to rechecking
# titles that share trigrams with the query).
# Codes only for a one-token, code-shaped query:
# first by prefix (a btree range on upper(code)); only when no code of the tenant starts so is the
# trigram index asked for similar codes and codes containing the query.
# The trigram index over every title, when the narrowed passes found nothing and could have.
_SIMILAR_TITLES = """
            SELECT p.id, greatest(word_similarity(%(q)s, p.title), similarity(%(q)s, p.brand)) AS score
            FROM catalog_product p
            WHERE (SELECT some_word FROM unknown)
              AND NOT EXISTS (SELECT 1 FROM spelt_titles) AND NOT EXISTS (SELECT 1 FROM one_word_off_titles)
              AND NOT ((SELECT count(*) FROM words WHERE known) >= 3
                       AND (SELECT count(*) FROM one_word_off) <= %(spelt_max)s)
              AND p.tenant_id = %(tenant)s AND {in_category} AND (%(q)s <%% p.title OR p.brand %% %(q)s)
            ORDER BY score DESC, p.id"""
_PREFIXED = """
            SELECT s.id, s.product_id, greatest(similarity(%(q)s, s.code), 0.9) AS score FROM catalog_sku s
            WHERE %(code)s AND s.tenant_id = %(tenant)s AND upper(s.code) LIKE %(prefix)s AND s.is_active
            ORDER BY upper(s.code)"""
_RESEMBLING = """
            SELECT s.id, s.product_id,
                   greatest(similarity(%(q)s, s.code), CASE WHEN s.code ILIKE %(like)s THEN 0.9 ELSE 0 END) AS score
            FROM catalog_sku s
            WHERE %(code)s AND NOT (SELECT found FROM code_prefix)
              AND s.tenant_id = %(tenant)s AND s.is_active AND (s.code %% %(q)s OR s.code ILIKE %(like)s)
            ORDER BY score DESC, s.id"""

# The SQL's parts, each a CTE: the code passes only for a code-shaped query, the title passes only for a
# query short enough to be a title (planning the whole statement with a filter's conditions in each pass
# costs more than it saves; a pass left out would have matched nothing). `code_prefix` is always there:
# the title passes read it, and for a query that is not code-shaped it is the constant false.
_CODE_PREFIX = """code_prefix AS MATERIALIZED (
        SELECT %(code)s AND EXISTS (
            SELECT 1 FROM catalog_sku x WHERE x.tenant_id = %(tenant)s AND upper(x.code) LIKE %(prefix)s
        ) AS found
    )"""
_TITLE_PASSES = f"""unknown AS MATERIALIZED (
        SELECT %(titles)s AND NOT (SELECT found FROM code_prefix) AND coalesce(bool_and(EXISTS (
            SELECT 1 FROM unnest(to_tsvector({ts_config_sql("s.locale")}, %(q)s)) AS u
            WHERE NOT EXISTS (
                SELECT 1 FROM knowledge_termstats t
                WHERE t.tenant_id = %(tenant)s AND t.locale = s.locale AND t.term = u.lexeme AND t.df > 0
            )
        )), true) AS some_word
        FROM knowledge_keywordstats s WHERE s.tenant_id = %(tenant)s AND s.chunks > 0
    ), words AS MATERIALIZED (
        SELECT w.lexeme, EXISTS (
            SELECT 1 FROM catalog_product p
            WHERE p.tenant_id = %(tenant)s AND {_TITLE_WORDS} @@ plainto_tsquery('simple', w.lexeme)
        ) AS known
        FROM unnest(to_tsvector('simple', %(q)s)) AS w WHERE (SELECT some_word FROM unknown)
    ), spelt AS MATERIALIZED (
        SELECT p.id FROM catalog_product p
        WHERE EXISTS (SELECT 1 FROM words WHERE known) AND p.tenant_id = %(tenant)s AND {{in_category}}
          AND {_TITLE_WORDS} @@ (SELECT plainto_tsquery('simple', string_agg(lexeme, ' ')) FROM words WHERE known)
        LIMIT %(spelt_max)s + 1
    ), spelt_titles AS MATERIALIZED ({_ranked("spelt")}
    ), one_word_off AS MATERIALIZED (
        SELECT p.id FROM catalog_product p
        WHERE NOT EXISTS (SELECT 1 FROM spelt_titles) AND p.tenant_id = %(tenant)s AND {{in_category}}
          AND {_TITLE_WORDS} @@ (
            SELECT string_agg('(' || plainto_tsquery('simple', others)::text || ')', ' | ')::tsquery FROM (
                SELECT string_agg(o.lexeme, ' ') AS others
                FROM words d JOIN words o ON o.known AND o.lexeme <> d.lexeme
                WHERE d.known GROUP BY d.lexeme HAVING count(*) >= 2
            ) AS alternatives
          )
        LIMIT %(spelt_max)s + 1
    ), one_word_off_titles AS MATERIALIZED ({_ranked("one_word_off")}
    ), similar_titles AS MATERIALIZED ({_visible_best(_SIMILAR_TITLES)}
    )"""
_CODE_PASSES = f"""prefixed AS MATERIALIZED ({_visible_best(_PREFIXED, product="product_id")}
    ), resembling AS MATERIALIZED ({_visible_best(_RESEMBLING, product="product_id")}
    )"""
_TITLE_MATCHES = (
    "SELECT 'product' AS kind, id, score FROM spelt_titles",
    "SELECT 'product' AS kind, id, score FROM one_word_off_titles",
    "SELECT 'product' AS kind, id, score FROM similar_titles",
)
_CODE_MATCHES = ("SELECT 'sku' AS kind, id, score FROM prefixed", "SELECT 'sku' AS kind, id, score FROM resembling")
# A matched title or code stands for its source's first passage in each locale: a product's heading (title,
# brand, category), a SKU's spec; its attributes, paragraphs and list items are found by what they say.
_CHUNKS = """
    SELECT DISTINCT ON (c.source_kind, c.source_id, c.locale) c.id, m.score
    FROM matched m JOIN knowledge_chunk c ON c.source_kind = m.kind AND c.source_id = m.id
    WHERE {chunk}
    ORDER BY c.source_kind, c.source_id, c.locale, c.ordinal, m.score DESC
"""


@lru_cache(maxsize=4)
def _sql(*, titles: bool, code: bool) -> str:
    """The statement for a query matched as a title, as a code, or as either (at least one)."""
    parts, matches = [_CODE_PREFIX], []
    if titles:
        parts.append(_TITLE_PASSES)
        matches += _TITLE_MATCHES
    if code:
        parts.append(_CODE_PASSES)
        matches += _CODE_MATCHES
    union = "\n        UNION ALL ".join(matches)
    return f"WITH {', '.join(parts)}, matched AS (\n        {union}\n    ){_CHUNKS}"


_TENANT_PRODUCT = "p.tenant_id = %(tenant)s AND p.is_active"
_TENANT_CHUNK = "c.tenant_id = %(tenant)s AND c.retired_at IS NULL AND c.is_leaf"


@dataclass(frozen=True)
class FuzzyHit:
    chunk: Chunk
    score: float


def chunk_search_fuzzy(*, tenant_id: int, query: str, k: int = 10) -> list[FuzzyHit]:
    """Return chunks of the tenant's products and SKUs whose title, brand or code resembles `query`."""
    rows = chunk_search_fuzzy_ids(tenant_id=tenant_id, query=query, k=k)
    chunks = Chunk.objects.in_bulk([cid for cid, _ in rows])
    return [FuzzyHit(chunks[cid], score) for cid, score in rows if cid in chunks]


def chunk_search_fuzzy_ids(
    *, tenant_id: int, query: str, k: int = 10, visibility: Visibility | None = None
) -> list[tuple[int, float]]:
    """Return (chunk id, similarity) pairs, best first, of the visible chunks matching `query`."""
    query = " ".join(query.split())[:QUERY_MAX_CHARS]
    if len(query.strip(".,;:!?-_/\\'\"()[]{}")) < 2:
        return []  # trigram similarity needs a few characters
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params = {
        "q": query, "like": f"%{escaped}%", "prefix": f"{escaped.upper()}%", "tenant": tenant_id,
        "k": min(k, MAX_K), "titles": len(query.split()) <= TITLE_MAX_WORDS, "code": bool(CODE_RE.match(query)),
        "threshold": WORD_SIMILARITY_THRESHOLD if len(query.split()) <= 2 else LONG_WORD_SIMILARITY_THRESHOLD,
        "spelt_max": SPELT_MAX,
    }  # fmt: skip
    if not (params["titles"] or params["code"]):
        return []
    statement = _sql(titles=params["titles"], code=params["code"])
    if visibility is None:
        sql = statement.format(product=_TENANT_PRODUCT, chunk=_TENANT_CHUNK, in_category="TRUE")
    else:
        # A category filter is also applied before the titles are ranked: with stock and price filters on
        # top, checking the whole catalog's matches one by one would grow with the catalog.
        sql = statement.format(
            product=visibility.product_sql, chunk=visibility.chunk_sql, in_category=visibility.category_sql
        )
        params = visibility.where(params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL pg_trgm.word_similarity_threshold = {params['threshold']}")
        cursor.execute(sql, params)
        rows = sorted(cursor.fetchall(), key=lambda row: (-row[1], row[0]))[: params["k"]]
    return [(cid, float(score)) for cid, score in rows]
