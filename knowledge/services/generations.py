"""Source generations: a token per source, in the cache, replaced whenever the source's chunks are retired.

A reader that keeps something derived from a source (the assistant's answer cache) remembers the tokens it
saw; a token that changed since means the source was edited or deleted. The indexer writes them and never
needs to know who reads them.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

from knowledge.models import Chunk

logger = logging.getLogger(__name__)
PREFIX = "index:v1:gen"
UNSEEN = "0"  # the generation of a source never retired since the cache was last emptied


def source_generation_key(kind: str, source_id: int) -> str:
    return f"{PREFIX}:{kind}:{source_id}"


def source_generations(sources) -> dict[str, str]:
    """Return the current generation token of each (kind, source id), keyed by its cache key."""
    keys = [source_generation_key(kind, source_id) for kind, source_id in sorted(sources)]
    current = cache.get_many(keys)
    return {key: current.get(key, UNSEEN) for key in keys}


def generations_current(generations: dict[str, str]) -> bool:
    """Return whether every remembered token is still the current one."""
    if not generations:
        return True
    current = cache.get_many(list(generations))
    return all(current.get(key, UNSEEN) == token for key, token in generations.items())


def sources_generation_bump(sources) -> None:
    """Give these sources a new generation now: whatever was derived from them stops matching."""
    token = uuid.uuid4().hex
    try:
        cache.set_many({source_generation_key(kind, source_id): token for kind, source_id in sources}, timeout=None)
    except Exception as exc:  # noqa: BLE001 - the edit is committed; readers' entries expire on their own TTL
        logger.warning("source generation bump failed (%s) for %d sources", type(exc).__name__, len(sources))


def chunks_generation_bump(chunk_ids) -> None:
    """Bump the generations of these (just retired) chunks' sources once the retirement commits."""
    sources = set(Chunk.objects.filter(pk__in=list(chunk_ids)).values_list("source_kind", "source_id").distinct())
    if sources:
        transaction.on_commit(lambda: sources_generation_bump(sources))
