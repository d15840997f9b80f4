"""Keep the index a function of the content: schedule, index, retire, sweep.

Writers call `core.indexable.index_mark_changed` before saving and `index_schedule` after; the worker calls
`sources_index`; the beat calls `index_sweep`, which finds every row whose hashes differ.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.indexable import PENDING, index_enqueue
from knowledge import embedding
from knowledge.chunking import ChunkDraft
from knowledge.models import Chunk, ChunkEmbedding, EmbeddingSpace
from knowledge.services import generations, postings
from knowledge.sources import SOURCES, SourceSpec

logger = logging.getLogger(__name__)

DRAIN_BATCH = 32  # rows an edit's task takes along from a backlog: small, so the next edit waits little
SWEEP_LIMIT = 5_000  # rows a sweep enqueues at most; the next sweep takes the rest
ERROR_MAX = 2_000  # characters of an indexing error kept on the row
FAILED_BACKOFF_MAX_S = 3_600


def live_spaces() -> list[EmbeddingSpace]:
    return list(EmbeddingSpace.objects.filter(state__in=[EmbeddingSpace.State.ACTIVE, EmbeddingSpace.State.BUILDING]))


@dataclass
class _Planned:
    """What one source row should have in the index, built outside any transaction."""

    pk: int
    observed_hash: str
    rows: list[Chunk] = field(default_factory=list)
    parents: dict[int, int] = field(default_factory=dict)  # index of child in rows -> index of parent


@dataclass
class IndexReport:
    indexed: int = 0
    stale: int = 0
    failed: int = 0
    retired: int = 0
    embedded: int = 0
    reused: int = 0


def chunk_content_hash(title: str, text: str) -> str:
    """SHA-256 of what gets embedded: a chunk with the same hash can reuse its vector."""
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def _plan(spec: SourceSpec, source) -> _Planned:
    planned = _Planned(pk=source.pk, observed_hash=source.content_hash)
    common = dict(
        tenant_id=source.tenant_id,
        source_kind=spec.kind,
        source_id=source.pk,
        source_key=spec.key(source),
        source_version=spec.version(source),
        product_id=spec.product_id(source),
        category_id=spec.category_id(source),
    )
    for passage in spec.passages(source):
        for draft in passage.drafts:
            parent_index = len(planned.rows)
            planned.rows.append(_chunk(common, passage.locale, passage.title, draft, len(planned.rows)))
            for child in draft.children:
                planned.parents[len(planned.rows)] = parent_index
                planned.rows.append(_chunk(common, passage.locale, passage.title, child, len(planned.rows)))
    return planned


def _chunk(common: dict, locale: str, title: str, draft: ChunkDraft, ordinal: int) -> Chunk:
    return Chunk(
        **common,
        locale=locale,
        title=title[:300],
        anchor=draft.anchor,
        ordinal=ordinal,
        is_leaf=draft.is_leaf,
        text=draft.text,
        token_count=draft.tokens,
        content_hash=chunk_content_hash(title, draft.text),
    )


def _identity(chunk: Chunk, parent_hash: str | None) -> tuple:
    return (chunk.locale, chunk.anchor, chunk.content_hash, chunk.is_leaf, parent_hash)


def _vectors_for(spaces: list[EmbeddingSpace], leaves: list[Chunk], report: IndexReport) -> dict:
    """Return {(space_id, content_hash): vector}, reusing stored vectors and encoding only new texts."""
    vectors: dict = {}
    hashes = {c.content_hash for c in leaves}
    for space in spaces:
        stored = (
            ChunkEmbedding.objects.filter(space=space, chunk__content_hash__in=hashes)
            .values_list("chunk__content_hash", "embedding")
            .distinct("chunk__content_hash")
            .order_by("chunk__content_hash")
        )
        for content_hash, vector in stored:
            vectors[(space.pk, content_hash)] = vector
        missing = {c.content_hash: f"{c.title}\n{c.text}" for c in leaves if (space.pk, c.content_hash) not in vectors}
        report.reused += len(hashes) - len(missing)
        if missing:
            encoded = embedding.encode(embedding.model_path_for(space), list(missing.values()))
            for content_hash, vector in zip(missing, encoded, strict=True):
                vectors[(space.pk, content_hash)] = vector
            report.embedded += len(missing)
    return vectors


def sources_index(kind: str, ids: list[int], drain: bool = True) -> IndexReport:
    """Bring the chunks and vectors of these sources in line with their current content (idempotent).

    Rows already fresh are skipped. With `drain`, other rows of the kind that wait for indexing join
    the batch, so a backlog of single-row tasks is worked off in encode-sized batches.
    """
    spec = SOURCES[kind]
    report = IndexReport()
    existing = set(spec.model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    report.retired += chunks_retire(kind, set(ids) - existing)
    wanted = list(spec.model.objects.filter(pk__in=existing).filter(PENDING).values_list("pk", flat=True))
    if drain and len(wanted) < DRAIN_BATCH:
        wanted += _waiting(spec, exclude=existing, limit=DRAIN_BATCH - len(wanted))
    sources = list(spec.queryset().filter(pk__in=wanted))
    plans = []
    for source in sources:
        try:
            plans.append(_plan(spec, source))
        except Exception as exc:  # noqa: BLE001 - one bad row must not block the batch
            index_mark_failed(spec, [source.pk], exc)
            report.failed += 1
    try:
        _write(spec, plans, report)
    except Exception as exc:  # visible in the admin until a retry succeeds; the edit itself is kept
        index_mark_failed(spec, [plan.pk for plan in plans], exc)
        raise
    return report


def _waiting(spec: SourceSpec, exclude: set[int], limit: int) -> list[int]:
    """Other rows of this kind waiting for indexing, oldest change first (failed rows wait for their retry)."""
    waiting = spec.model.objects.filter(PENDING, index_error="").exclude(pk__in=exclude)
    return list(waiting.order_by(F("index_changed_at").asc(nulls_first=True)).values_list("pk", flat=True)[:limit])


def _write(spec: SourceSpec, plans: list[_Planned], report: IndexReport) -> None:
    """Embed what is new, then apply every plan whose row did not change meanwhile (rows locked).

    All plans of a batch are written with a handful of bulk statements, so a batch costs little
    more than its encoding.
    """
    spaces = live_spaces()
    vectors = _vectors_for(spaces, [c for p in plans for c in p.rows if c.is_leaf], report)
    with transaction.atomic():
        # Rows another worker is writing right now are skipped: it or the row's own task indexes them.
        locked = spec.model.objects.select_for_update(skip_locked=True).filter(pk__in=[p.pk for p in plans])
        current = dict(locked.values_list("pk", "content_hash"))
        fresh = [p for p in plans if current.get(p.pk) == p.observed_hash]
        report.stale += len(plans) - len(fresh)  # edited while we embedded: that edit's own task indexes it
        live = defaultdict(list)
        for chunk in Chunk.objects.filter(
            source_kind=spec.kind, source_id__in=[p.pk for p in fresh], retired_at__isnull=True
        ):
            live[chunk.source_id].append(chunk)
        new_rows, retire, refiled = [], [], []
        for plan in fresh:
            rows, retired, moved = _diff(plan, live[plan.pk])
            new_rows += rows
            retire += retired
            refiled += moved
        _retire_ids(retire)
        Chunk.objects.bulk_update(refiled, ["product", "category"])
        _insert(new_rows, spaces, vectors)
        # The rows are locked and unchanged since planning, so content_hash is what we indexed.
        spec.model.objects.filter(pk__in=[p.pk for p in fresh]).update(
            indexed_hash=F("content_hash"), indexed_at=timezone.now(), index_error="", index_attempts=0
        )
        report.indexed, report.retired = len(fresh), report.retired + len(retire)


def _diff(plan: _Planned, live: list[Chunk]) -> tuple[list[tuple], list[int], list[Chunk]]:
    """Match planned chunks to live ones; return ((row, parent row index, plan) to insert, ids to retire,
    and kept chunks whose source now files them under another product or category)."""
    by_pk = {c.pk: c for c in live}
    kept = {_identity(c, by_pk[c.parent_id].content_hash if c.parent_id in by_pk else None): c for c in live}
    new_indices, keep_ids, refiled = [], set(), []
    for i, chunk in enumerate(plan.rows):
        parent_index = plan.parents.get(i)
        parent_hash = plan.rows[parent_index].content_hash if parent_index is not None else None
        existing = kept.get(_identity(chunk, parent_hash))
        if existing is not None and existing.pk not in keep_ids:
            if (existing.product_id, existing.category_id) != (chunk.product_id, chunk.category_id):
                existing.product_id, existing.category_id = chunk.product_id, chunk.category_id
                refiled.append(existing)  # same text, other product: visibility follows the filing
            plan.rows[i] = existing
            keep_ids.add(existing.pk)
        else:
            new_indices.append(i)
    new_rows = [(plan.rows[i], plan.parents.get(i), plan) for i in new_indices]
    return new_rows, [c.pk for c in live if c.pk not in keep_ids], refiled


def _insert(new_rows, spaces: list[EmbeddingSpace], vectors: dict) -> None:
    """Insert parents before children (children need their parent's id), then the leaves' vectors and postings."""
    Chunk.objects.bulk_create([row for row, parent, _ in new_rows if parent is None])
    for row, parent, plan in new_rows:
        if parent is not None:
            row.parent = plan.rows[parent]  # kept or just inserted: has a pk either way
    Chunk.objects.bulk_create([row for row, parent, _ in new_rows if parent is not None])
    _embeddings_insert(
        [
            (row.pk, space.pk, vectors[(space.pk, row.content_hash)])
            for row, _, _ in new_rows
            if row.is_leaf
            for space in spaces
        ]
    )
    postings.postings_add([row.pk for row, _, _ in new_rows if row.is_leaf])


_EMBEDDINGS_INSERT = (
    f"INSERT INTO {ChunkEmbedding._meta.db_table} (chunk_id, space_id, embedding) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::vector[])"
)


@lru_cache(maxsize=8)
def _vector_format(dimensions: int) -> str:
    return "[" + ",".join(["%.9g"] * dimensions) + "]"  # 9 digits give back every float32 exactly


def _embeddings_insert(rows: list[tuple[int, int, object]]) -> None:
    """Insert (chunk id, space id, vector) rows in one statement, the vectors in pgvector's text form.

    One format string per vector replaces a conversion per number (the model field's way), and the shorter
    text is also quicker for PostgreSQL to read.
    """
    if not rows:
        return
    texts = []
    for _, _, vector in rows:
        values = np.asarray(vector, dtype=np.float32).tolist()
        texts.append(_vector_format(len(values)) % tuple(values))
    with connection.cursor() as cursor:
        cursor.execute(_EMBEDDINGS_INSERT, [[c for c, _, _ in rows], [s for _, s, _ in rows], texts])


def _retire_ids(chunk_ids: list[int]) -> None:
    if chunk_ids:
        postings.postings_remove(chunk_ids)
        ChunkEmbedding.objects.filter(chunk_id__in=chunk_ids).delete()
        Chunk.objects.filter(pk__in=chunk_ids).update(retired_at=timezone.now())
        generations.chunks_generation_bump(chunk_ids)  # what was derived from these sources stops matching


def chunks_retire(kind: str, source_ids) -> int:
    """Take these sources' chunks out of search (they stay readable for citations); return how many."""
    source_ids = list(source_ids)
    if not source_ids:
        return 0
    ids = list(
        Chunk.objects.filter(source_kind=kind, source_id__in=source_ids, retired_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    _retire_ids(ids)
    return len(ids)


def index_mark_failed(spec: SourceSpec, pks: list[int], exc: Exception) -> None:
    """Record the error on the rows (one statement); they stay pending, so retries and the sweep keep trying."""
    message = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
    logger.warning("indexing %d %s rows failed: %s", len(pks), spec.kind, type(exc).__name__)
    spec.model.objects.filter(pk__in=pks).update(index_error=message, index_attempts=F("index_attempts") + 1)


def index_sweep(now=None) -> dict[str, int]:
    """Enqueue every source whose hashes differ and that nobody took; retire chunks of deleted rows."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.INDEX_SWEEP_GRACE_S)
    counts = {}
    for kind, spec in SOURCES.items():
        waiting = spec.model.objects.filter(PENDING).filter(
            Q(index_changed_at__isnull=True) | Q(index_changed_at__lt=now - grace),
            Q(index_enqueued_at__isnull=True) | Q(index_enqueued_at__lt=now - grace),
        )
        ids = [
            pk
            for pk, error, attempts, enq in waiting.values_list(
                "pk", "index_error", "index_attempts", "index_enqueued_at"
            )[:SWEEP_LIMIT]
            if _backoff_over(error, attempts, enq, now)
        ]
        spec.model.objects.filter(pk__in=ids).update(index_enqueued_at=now)
        index_enqueue(kind, ids)
        orphans = Chunk.objects.filter(source_kind=kind, retired_at__isnull=True).filter(
            ~Exists(spec.model.objects.filter(pk=OuterRef("source_id")))
        )
        counts[kind] = len(ids)
        counts[f"{kind}_orphans_retired"] = chunks_retire(kind, orphans.values_list("source_id", flat=True).distinct())
    return counts


def _backoff_over(error: str, attempts: int, enqueued_at, now) -> bool:
    if not error or enqueued_at is None:
        return True
    wait = min(30 * 2 ** min(attempts, 10), FAILED_BACKOFF_MAX_S)
    return (now - enqueued_at).total_seconds() >= wait


def sources_deleted_retire(sender, *, kind: str, ids, **kwargs) -> None:
    """Retire the chunks of sources a writer in another app is deleting (core.indexable.sources_deleted)."""
    chunks_retire(kind, ids)
