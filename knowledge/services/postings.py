"""Keep the keyword leg's postings and BM25 statistics a function of the live leaf chunks.

The indexing path calls `postings_add` after inserting chunks and `postings_remove` before retiring
them, in the same transaction, so a retired chunk leaves both its postings and the statistics.
Each call is two bulk statements for the whole batch, never a query per chunk.
"""

from django.db import connection

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
        RETURNING tenant_id, locale, chunk_id, tf
    )
    SELECT tenant_id, locale, count(DISTINCT chunk_id), sum(tf) FROM added GROUP BY tenant_id, locale
"""

_REMOVE = """
    WITH removed AS (
        DELETE FROM knowledge_posting WHERE chunk_id = ANY(%(ids)s) RETURNING tenant_id, locale, chunk_id, tf
    )
    SELECT tenant_id, locale, -count(DISTINCT chunk_id), -sum(tf) FROM removed GROUP BY tenant_id, locale
"""

# Rows are upserted in key order, so two batches touching the same tenants never deadlock.
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
