"""The answer cache: drafts keyed by who asks and what was retrieved; an edit to a cited source drops them.

A key covers tenant, customer group, locale, capability, the normalized question, the prompt template
version, a hash of the retrieved context (passages with their live prices and stock) and the provider and
model the route would call now: when routing changes (an LLM configured, a route edited), drafts of the
former provider are not served. Only drafts of the routed provider are stored (a fallback's draft is not),
so an answer given while a provider was down is not served once it has recovered. An entry
remembers the generation token of every source its answer cited (knowledge.services.generations); the
indexer replaces a source's token when it retires the source's chunks, so the entry no longer matches.
A hit is still verified against the live catalog before it is served.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

from assistant.pipeline.types import Draft
from assistant.text import normalize_question
from core.tenancy import Caller
from knowledge.services.generations import generations_current, source_generations

logger = logging.getLogger(__name__)
PREFIX = "asst:v1"


def answer_cache_key(
    *, caller: Caller, capability: str, locale: str, question: str, context_hash: str, served_by: str
) -> str:
    """Key a draft by who asks, what, over which context, and which provider/model the route would call."""
    group = caller.customer_group_id or 0
    parts = [caller.tenant_id, group, locale, capability, normalize_question(question), context_hash, served_by]
    return f"{PREFIX}:answer:" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def answer_cache_get(key: str) -> Draft | None:
    """Return the cached draft, or None when absent or when a source it cited was edited since."""
    entry = cache.get(key)
    if entry is None:
        return None
    if not generations_current(entry["generations"]):
        return None
    return Draft(**{**entry["draft"], "cache_hit": True})


def answer_cache_put(key: str, draft: Draft, sources: set[tuple[str, int]]) -> None:
    """Store a draft with the current generation of every source it cited."""
    entry = {
        "draft": {
            "text": draft.text,
            "provider": draft.provider,
            "model": draft.model,
            "route_reason": draft.route_reason,
            "prompt_tokens": draft.prompt_tokens,
            "completion_tokens": draft.completion_tokens,
        },
        "generations": source_generations(sources),
    }
    cache.set(key, entry, settings.ASSISTANT_CACHE_TTL_S)
