"""Build the keyword leg's packed postings (`KeywordPack`) and decide which tenants and locales need one.

A pack is the postings of one tenant and locale as committed when its build began, one row per lexeme
with the chunk ids, tf and dl as packed big-endian arrays. The keyword leg reads a lexeme's row whole
(and keeps it in memory, knowledge.retrieval.packed) instead of walking the postings index tuple by
tuple. Chunks created after the build are read from the postings table at query time and retired ones
are skipped by the visibility check, so a pack only has to be rebuilt when that difference grows
(`keyword_packs_refresh`, run by the beat schedule).
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from knowledge.models import Chunk, KeywordPack, KeywordStats

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('knowledge.keyword_pack'), %s)"
_PACK = """
    INSERT INTO knowledge_packedpostings (tenant_id, locale, term, generation, chunk_ids, tfs, dls)
    SELECT tenant_id, locale, term, %(generation)s,
           string_agg(int8send(chunk_id), ''::bytea ORDER BY chunk_id),
           string_agg(int4send(tf::int4), ''::bytea ORDER BY chunk_id),
           string_agg(int4send(dl::int4), ''::bytea ORDER BY chunk_id)
    FROM knowledge_posting WHERE tenant_id = %(tenant)s AND locale = %(locale)s
    GROUP BY tenant_id, locale, term
"""
# The instant the INSERT's snapshot follows, and the start of the oldest transaction of this database that
# had then written (it has a transaction id): such a transaction may still commit chunks that snapshot lacks,
# created since it began. One that had not yet written creates its chunks after that instant, and a
# read-only one (an export, a report) creates none, so neither widens the delta.
_SNAPSHOT_FROM = """
    SELECT clock_timestamp(), min(xact_start)
    FROM pg_stat_activity
    WHERE pid <> pg_backend_pid() AND datname = current_database() AND backend_xid IS NOT NULL
"""
_SIZES = """
    SELECT count(*), coalesce(sum(length(chunk_ids)) / 8, 0),
           coalesce(sum(length(chunk_ids) + length(tfs) + length(dls)), 0)
    FROM knowledge_packedpostings WHERE tenant_id = %s AND locale = %s
"""


@dataclass(frozen=True)
class PackStatus:
    tenant_id: int
    locale: str
    chunks: int  # live leaf chunks now (BM25's N)
    changed: int  # chunks created since the pack's build, plus those it holds that were retired since
    pack: KeywordPack | None

    @property
    def due(self) -> bool:
        if self.chunks < settings.KEYWORD_PACK_MIN_CHUNKS:
            return False
        if self.pack is None:
            return True
        share = self.pack.chunks * settings.KEYWORD_PACK_CHANGED_SHARE
        return self.changed >= max(settings.KEYWORD_PACK_MIN_CHANGED, share)


def keyword_pack_build(*, tenant_id: int, locale: str) -> KeywordPack:
    """Pack the tenant's postings in `locale` as committed now, replacing its previous pack in one transaction."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK, [tenant_id])
        cursor.execute("SET LOCAL work_mem = '256MB'")
        pack = KeywordPack.objects.filter(tenant_id=tenant_id, locale=locale).first()
        generation = (pack.generation if pack else 0) + 1
        cursor.execute("DELETE FROM knowledge_packedpostings WHERE tenant_id = %s AND locale = %s", [tenant_id, locale])
        cursor.execute(_SNAPSHOT_FROM)
        built_from, oldest_open = cursor.fetchone()
        oldest_open = min(built_from, oldest_open or built_from)  # clock_timestamp() once: it moves between calls
        cursor.execute(_PACK, {"tenant": tenant_id, "locale": locale, "generation": generation})
        cursor.execute(_SIZES, [tenant_id, locale])
        terms, postings, size = cursor.fetchone()
        stats = KeywordStats.objects.filter(tenant_id=tenant_id, locale=locale).first()
        chunks = stats.chunks if stats else 0  # as of the commits just after the snapshot: for `PackStatus` only
        fields = dict(
            generation=generation,
            built_from=built_from,
            delta_from=oldest_open - timedelta(seconds=settings.KEYWORD_PACK_MARGIN_S),
            built_at=timezone.now(),
            build_seconds=time.perf_counter() - started,
            chunks=chunks,
            postings=postings,
            terms=terms,
            size_bytes=size,
        )
        pack, _ = KeywordPack.objects.update_or_create(tenant_id=tenant_id, locale=locale, defaults=fields)
    return pack


def keyword_pack_status(*, tenant_id: int, locale: str) -> PackStatus:
    """How far the tenant's pack in `locale` is behind its postings."""
    stats = KeywordStats.objects.filter(tenant_id=tenant_id, locale=locale).first()
    pack = KeywordPack.objects.filter(tenant_id=tenant_id, locale=locale).first()
    return pack_status(tenant_id, locale, stats.chunks if stats else 0, pack)


def pack_status(tenant_id: int, locale: str, chunks: int, pack: KeywordPack | None) -> PackStatus:
    """The status of `pack` (or of no pack) for a locale holding `chunks` live chunks: one count query."""
    if pack is None:
        return PackStatus(tenant_id, locale, chunks, chunks, None)
    created = Chunk.objects.filter(tenant_id=tenant_id, locale=locale, created_at__gte=pack.built_from).count()
    retired = max(0, pack.chunks + created - chunks)  # what left the live set since the build, at least
    return PackStatus(tenant_id, locale, chunks, created + retired, pack)


def keyword_packs_refresh() -> list[KeywordPack]:
    """Build the packs that are due."""
    packs = {(p.tenant_id, p.locale): p for p in KeywordPack.objects.all()}
    built = []
    for stats in KeywordStats.objects.order_by("tenant_id", "locale"):
        if pack_status(stats.tenant_id, stats.locale, stats.chunks, packs.get((stats.tenant_id, stats.locale))).due:
            built.append(keyword_pack_build(tenant_id=stats.tenant_id, locale=stats.locale))
    return built
