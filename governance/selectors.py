"""Governance reads: citations resolve to the exact chunk version an answer cited, within the caller's tenant."""

import re
from dataclasses import dataclass

from django.db.models import F, Q

from catalog.selectors import category_entitled_ids
from core.tenancy import Caller
from knowledge.models import Chunk, SourceKind
from knowledge.sources import SOURCES

CITATION_ID_RE = re.compile(
    r"^(?P<kind>[a-z]+):(?P<key>[^@#\s]{1,150})@(?P<version>\d{1,9})#(?P<anchor>[\w.-]{1,40})\Z"
)


@dataclass(frozen=True)
class ResolvedCitation:
    chunk: Chunk
    source_exists: bool
    answer_id: str | None

    @property
    def is_current(self) -> bool:
        return self.chunk.retired_at is None


def citation_id_parse(citation_id: str) -> dict | None:
    """Split `kind:key@version#anchor`; None when it is not a citation ID of a known kind."""
    match = CITATION_ID_RE.match(citation_id)
    if match is None or match["kind"] not in SourceKind.values:
        return None
    return {**match.groupdict(), "version": int(match["version"])}


def citation_resolve(*, caller: Caller, citation_id: str, answer_id=None) -> ResolvedCitation | None:
    """Return the chunk version named by `citation_id` in the caller's tenant and entitled categories.

    With `answer_id`, exactly the chunk that answer cited (several chunk rows can share an ID when a source
    was deleted and re-created, or a translation changed without a new version). Without it, the live
    chunk if there is one, else the most recently created.
    """
    parts = citation_id_parse(citation_id)
    if parts is None:
        return None
    chunks = Chunk.objects.filter(
        tenant_id=caller.tenant_id,
        source_kind=parts["kind"],
        source_key=parts["key"],
        source_version=parts["version"],
        anchor=parts["anchor"],
    ).select_related("parent")
    entitled = category_entitled_ids(caller=caller)
    if entitled is not None:  # a chunk filed under a category follows that category's entitlement
        chunks = chunks.filter(Q(category__isnull=True) | Q(category_id__in=entitled))
    if answer_id is not None:
        chunks = chunks.filter(
            answer_citations__answer_id=answer_id, answer_citations__answer__tenant_id=caller.tenant_id
        )
    chunk = chunks.order_by(F("retired_at").desc(nulls_first=True), "-created_at", "-pk").first()
    if chunk is None:
        return None
    exists = SOURCES[chunk.source_kind].model.objects.filter(pk=chunk.source_id).exists()
    return ResolvedCitation(chunk, exists, str(answer_id) if answer_id else None)
