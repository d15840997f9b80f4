"""The answer cache: drafts keyed by who asks and what was retrieved; an edit to a cited source drops them.

A key covers tenant, customer group, locale, capability, the normalized question, the prompt template
version, a hash of the retrieved context (passages with their live prices and stock) and the provider and
model the route would call now: when routing changes (an LLM configured, a route edited), drafts of the
former provider are not served. Only drafts of the routed provider are stored (a fallback's draft is not),
so an answer given while a provider was down is not served once it has recovered. An entry
remembers a generation token for every source its answer cited; `answer_cache_invalidate_chunks`, called
by the indexer when it retires a source's chunks, replaces those tokens, so the entry no longer matches.
A hit is still verified against the live catalog before it is served.
"""

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from assistant.pipeline.types import Draft
from assistant.text import normalize_question
from governance.authentication import Caller

logger = logging.getLogger(__name__)
PREFIX = "asst:v1"


def _generation_key(kind: str, source_id: int) -> str:
    return f"{PREFIX}:gen:{kind}:{source_id}"


def answer_cache_key(
    *, caller: Caller, capability: str, locale: str, question: str, context_hash: str, served_by: str
) -> str:
    """Key a draft by who asks, what, over which context, and which provider/model the route would call."""
    group = caller.customer_group.pk if caller.customer_group else 0
    parts = [caller.tenant.pk, group, locale, capability, normalize_question(question), context_hash, served_by]
    return f"{PREFIX}:answer:" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def answer_cache_get(key: str) -> Draft | None:
    """Return the cached draft, or None when absent or when a source it cited was edited since."""
    entry = cache.get(key)
    if entry is None:
        return None
    generations = entry["generations"]
    if generations:
        current = cache.get_many(list(generations))
        if any(current.get(k, "0") != v for k, v in generations.items()):
            return None
    return Draft(**{**entry["draft"], "cache_hit": True})


def answer_cache_put(key: str, draft: Draft, sources: set[tuple[str, int]]) -> None:
    """Store a draft with the current generation of every source it cited."""
    keys = [_generation_key(kind, source_id) for kind, source_id in sorted(sources)]
    current = cache.get_many(keys)
    entry = {
        "draft": {
            "text": draft.text,
            "provider": draft.provider,
            "model": draft.model,
            "route_reason": draft.route_reason,
            "prompt_tokens": draft.prompt_tokens,
            "completion_tokens": draft.completion_tokens,
        },
        "generations": {k: current.get(k, "0") for k in keys},
    }
    cache.set(key, entry, settings.ASSISTANT_CACHE_TTL_S)


def answer_cache_invalidate_sources(sources: set[tuple[str, int]]) -> None:
    """Give these sources a new generation now: every cached answer that cited one of them stops matching."""
    token = uuid.uuid4().hex
    try:
        cache.set_many({_generation_key(kind, source_id): token for kind, source_id in sources}, timeout=None)
    except Exception as exc:  # noqa: BLE001 - the edit is committed; entries expire after ASSISTANT_CACHE_TTL_S
        logger.warning("answer cache invalidation failed (%s) for %d sources", type(exc).__name__, len(sources))


def answer_cache_invalidate_chunks(chunk_ids) -> None:
    """Invalidate the cached answers citing the sources of these (just retired) chunks, once the retirement commits."""
    from knowledge.models import Chunk

    sources = set(Chunk.objects.filter(pk__in=list(chunk_ids)).values_list("source_kind", "source_id").distinct())
    if sources:
        transaction.on_commit(lambda: answer_cache_invalidate_sources(sources))
