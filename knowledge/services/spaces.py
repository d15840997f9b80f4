"""Embedding spaces: create one, fill it in the background, switch to it only once it is complete."""

import logging

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from knowledge import embedding
from knowledge.models import Chunk, ChunkEmbedding, EmbeddingSpace

logger = logging.getLogger(__name__)

BACKFILL_BATCH = 256  # chunks per encode round: long enough to amortise, short enough to stay responsive
PURGE_BATCH = 5_000
BACKFILL_LOCK_S = 600
# Sent by name: the tasks module imports these services, never the reverse.
BACKFILL_TASK = "knowledge.tasks.embedding_space_backfill"
PURGE_TASK = "knowledge.tasks.embedding_space_purge"


def hnsw_index_name(space_id: int) -> str:
    return f"chunk_embedding_hnsw_{space_id}"


def _create_hnsw_index(space: EmbeddingSpace) -> None:
    """Give the space its own partial HNSW index over vectors cast to its dimensions (cosine)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(space.pk)} ON knowledge_chunkembedding "
            f"USING hnsw ((embedding::vector({int(space.dimensions)})) vector_cosine_ops) "
            f"WHERE space_id = {int(space.pk)}"
        )


@transaction.atomic
def embedding_space_create(*, name: str, model_path: str = "", version: int = 1, dimensions: int | None = None):
    """Create a space in state building (or active when there is none yet) with its HNSW index."""
    if dimensions is None:
        dimensions = embedding.encoder(model_path or embedding.default_model_path()).get_embedding_dimension()
    has_active = EmbeddingSpace.objects.filter(state=EmbeddingSpace.State.ACTIVE).exists()
    space = EmbeddingSpace(name=name, model_path=model_path, version=version, dimensions=dimensions)
    if not has_active:
        space.state, space.activated_at = EmbeddingSpace.State.ACTIVE, timezone.now()
    space.full_clean()
    space.save()
    _create_hnsw_index(space)
    if space.state == EmbeddingSpace.State.BUILDING:
        transaction.on_commit(lambda: embedding_space_backfill_schedule(space.pk))
    return space


def active_space() -> EmbeddingSpace | None:
    return EmbeddingSpace.objects.filter(state=EmbeddingSpace.State.ACTIVE).first()


def space_label(space: EmbeddingSpace | None) -> str:
    """How answers and search results name the space they were retrieved in ("" without one)."""
    return f"{space.name}#{space.pk}" if space else ""


def embedding_space_backfill_schedule(space_id: int | None = None) -> None:
    """Enqueue the backfill of the building space unless one already runs."""
    if space_id is None:
        space_id = (
            EmbeddingSpace.objects.filter(state=EmbeddingSpace.State.BUILDING).values_list("pk", flat=True).first()
        )
    if space_id is not None and cache.add(f"space-backfill:{space_id}", 1, BACKFILL_LOCK_S):
        current_app.send_task(BACKFILL_TASK, args=(space_id,))


def _missing(space: EmbeddingSpace):
    return Chunk.objects.filter(retired_at__isnull=True, is_leaf=True).filter(
        ~Exists(ChunkEmbedding.objects.filter(space=space, chunk=OuterRef("pk")))
    )


def embedding_space_backfill(space_id: int) -> dict:
    """Embed every live leaf chunk into a building space, then make it the active one."""
    space = EmbeddingSpace.objects.get(pk=space_id)
    done = 0
    try:
        while space.state == EmbeddingSpace.State.BUILDING:
            batch = list(_missing(space).order_by("pk")[:BACKFILL_BATCH])
            if not batch:
                embedding_space_promote(space)
                break
            vectors = embedding.encode(embedding.model_path_for(space), [f"{c.title}\n{c.text}" for c in batch])
            ChunkEmbedding.objects.bulk_create(
                [ChunkEmbedding(chunk=c, space=space, embedding=v) for c, v in zip(batch, vectors, strict=True)],
                ignore_conflicts=True,  # an indexing task may have written the same chunk meanwhile
            )
            done += len(batch)
            space.refresh_from_db()
    finally:
        cache.delete(f"space-backfill:{space_id}")
    return {"space": space_id, "embedded": done, "state": space.state}


@transaction.atomic
def embedding_space_promote(space: EmbeddingSpace) -> bool:
    """Switch serving to `space` if every live chunk has its vector; retire the old space."""
    spaces = list(EmbeddingSpace.objects.select_for_update().filter(state__in=["active", "building"]))
    space = next(s for s in spaces if s.pk == space.pk)
    if space.state != EmbeddingSpace.State.BUILDING or _missing(space).exists():
        return False
    old = [s for s in spaces if s.state == EmbeddingSpace.State.ACTIVE]
    EmbeddingSpace.objects.filter(pk__in=[s.pk for s in old]).update(state=EmbeddingSpace.State.RETIRED)
    space.state, space.activated_at = EmbeddingSpace.State.ACTIVE, timezone.now()
    space.save(update_fields=["state", "activated_at"])
    for retired in old:
        transaction.on_commit(lambda pk=retired.pk: _purge_later(pk))
    logger.info("embedding space %s is now serving", space)
    return True


def _purge_later(space_id: int) -> None:
    current_app.send_task(PURGE_TASK, args=(space_id,))


def embedding_space_purge(space_id: int) -> int:
    """Delete a retired space's vectors in batches and drop its index."""
    if not EmbeddingSpace.objects.filter(pk=space_id, state=EmbeddingSpace.State.RETIRED).exists():
        return 0
    deleted = 0
    while True:
        ids = list(ChunkEmbedding.objects.filter(space_id=space_id).values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            break
        deleted += ChunkEmbedding.objects.filter(pk__in=ids).delete()[0]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {hnsw_index_name(int(space_id))}")
    return deleted
