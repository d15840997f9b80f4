"""Keep the keyword leg's postings and BM25 statistics a function of the live leaf chunks.

The indexing path calls `postings_add` after inserting chunks and `postings_remove` before retiring
them, in the same transaction, so a retired chunk leaves both its postings and the statistics (per tenant
and locale: chunks and summed length; per lexeme: document frequency and term-weight bounds).
Each call is two bulk statements for the whole batch, never a query per chunk.
"""

from django.db import connection

# BM25's parameters: the keyword leg's defaults, and those the term statistics' `max_weight` assumes.
BM25_K1 = 1.2
BM25_B = 0.75


def tf_part(tf, dl, avgdl: float, k1: float = BM25_K1, b: float = BM25_B):
    """BM25's tf part (the factor of idf) of numbers or NumPy arrays: the formula `tf_part_sql` writes in SQL."""
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))


def tf_part_sql(tf: str, dl: str, avgdl: str) -> str:
    """Return SQL for a posting's BM25 tf part (the factor of idf) with the default parameters."""
    return f"{tf} * {BM25_K1 + 1} / ({tf} + {BM25_K1} * ({1 - BM25_B} + {BM25_B} * {dl} / {avgdl}))"


TS_CONFIGS = {"en": "english", "de": "german"}  # the chunk's locale picks stemming and stop words
DEFAULT_TS_CONFIG = "simple"  # a locale without a configuration is still searchable, unstemmed


def ts_config_sql(locale_column: str) -> str:
    """Return a SQL expression mapping a locale column to its text search configuration."""
    cases = " ".join(f"WHEN '{locale}' THEN '{config}'::regconfig" for locale, config in TS_CONFIGS.items())
    return f"(CASE {locale_column} {cases} ELSE '{DEFAULT_TS_CONFIG}'::regconfig END)"


# One row per (chunk, lexeme); tf is the lexeme's position count, dl the chunk's summed tf.
_ADD = f"""
    WITH terms AS (
        SELECT c.id AS chunk_id, c.tenant_id, c.locale, u.lexeme, cardinality(u.positions) AS tf
        FROM knowledge_chunk c,
             LATERAL unnest(to_tsvector({ts_config_sql("c.locale")}, c.title || ' ' || c.text)) AS u
        WHERE c.id = ANY(%(ids)s) AND c.is_leaf AND c.retired_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM knowledge_posting p WHERE p.chunk_id = c.id)
    ), lengths AS (
        SELECT chunk_id, sum(tf) AS dl FROM terms GROUP BY chunk_id
    ), added AS (
        INSERT INTO knowledge_posting (tenant_id, locale, term, chunk_id, tf, dl)
        SELECT t.tenant_id, t.locale, t.lexeme, t.chunk_id, t.tf, l.dl FROM terms t JOIN lengths l USING (chunk_id)
        RETURNING tenant_id, locale, term, chunk_id, tf, dl
    ), reference AS (
        SELECT a.tenant_id, a.locale, coalesce(
            (SELECT s.lexemes::float8 / s.chunks FROM knowledge_keywordstats s
             WHERE s.tenant_id = a.tenant_id AND s.locale = a.locale AND s.chunks > 0),
            sum(a.tf)::float8 / count(DISTINCT a.chunk_id)
        ) AS avgdl
        FROM added a GROUP BY 1, 2
    ), term_stats AS (
        INSERT INTO knowledge_termstats AS s (tenant_id, locale, term, df, max_tf, min_dl, max_weight, weight_avgdl)
        SELECT a.tenant_id, a.locale, a.term, count(*), max(a.tf), min(a.dl),
               max({tf_part_sql("a.tf", "a.dl", "r.avgdl")}), r.avgdl
        FROM added a JOIN reference r USING (tenant_id, locale)
        GROUP BY a.tenant_id, a.locale, a.term, r.avgdl ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, locale, term) DO UPDATE SET
            df = s.df + excluded.df,
            max_tf = CASE WHEN s.df = 0 THEN excluded.max_tf ELSE greatest(s.max_tf, excluded.max_tf) END,
            min_dl = CASE WHEN s.df = 0 THEN excluded.min_dl ELSE least(s.min_dl, excluded.min_dl) END,
            max_weight = CASE WHEN s.df = 0 THEN excluded.max_weight
                ELSE greatest(s.max_weight, excluded.max_weight) END,
            weight_avgdl = CASE WHEN s.df = 0 THEN excluded.weight_avgdl
                ELSE least(s.weight_avgdl, excluded.weight_avgdl) END
    )
    SELECT tenant_id, locale, count(DISTINCT chunk_id), sum(tf) FROM added GROUP BY tenant_id, locale
"""

_REMOVE = """
    WITH removed AS (
        DELETE FROM knowledge_posting WHERE chunk_id = ANY(%(ids)s) RETURNING tenant_id, locale, term, chunk_id, tf
    ), counts AS (
        SELECT tenant_id, locale, term, count(*) AS df FROM removed GROUP BY 1, 2, 3
    ), locked AS (
        SELECT s.id, r.df FROM knowledge_termstats s JOIN counts r USING (tenant_id, locale, term)
        ORDER BY s.tenant_id, s.locale, s.term FOR UPDATE OF s
    ), term_stats AS (
        UPDATE knowledge_termstats s SET df = s.df - l.df FROM locked l WHERE s.id = l.id
    )
    SELECT tenant_id, locale, -count(DISTINCT chunk_id), -sum(tf) FROM removed GROUP BY tenant_id, locale
"""

# Rows are upserted (and term stats locked) in key order, so two batches touching the same rows never deadlock.
_STATS = """
    INSERT INTO knowledge_keywordstats (tenant_id, locale, chunks, lexemes)
    SELECT * FROM unnest(%(tenants)s::bigint[], %(locales)s::text[], %(chunks)s::bigint[], %(lexemes)s::bigint[])
    ORDER BY 1, 2
    ON CONFLICT (tenant_id, locale) DO UPDATE
    SET chunks = knowledge_keywordstats.chunks + excluded.chunks,
        lexemes = knowledge_keywordstats.lexemes + excluded.lexemes
"""


def postings_add(chunk_ids: list[int]) -> None:
    """Write postings for these chunks (live leaves only; chunks that already have them are skipped)."""
    _apply(_ADD, chunk_ids)


def postings_remove(chunk_ids: list[int]) -> None:
    """Delete these chunks' postings and take them out of the statistics."""
    _apply(_REMOVE, chunk_ids)


def _apply(sql: str, chunk_ids: list[int]) -> None:
    if not chunk_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(chunk_ids)})
        deltas = sorted(cursor.fetchall())
        if deltas:
            tenants, locales, chunks, lexemes = (list(col) for col in zip(*deltas, strict=True))
            cursor.execute(_STATS, {"tenants": tenants, "locales": locales, "chunks": chunks, "lexemes": lexemes})
