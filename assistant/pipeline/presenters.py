"""What a client receives: the same dictionaries for the JSON response and for the server-sent events."""

from urllib.parse import quote

from django.urls import reverse

from assistant.pipeline.types import Citation, Retrieved, Verified
from governance.models import AnswerRecord


def citation_url(citation_id: str, answer_id=None) -> str:
    path = reverse("citation-detail", kwargs={"citation_id": "x"})[: -len("x")] + quote(citation_id, safe=":@")
    return f"{path}?answer={answer_id}" if answer_id else path


def citation_payload(citation: Citation, record: AnswerRecord) -> dict:
    chunk = citation.chunk
    return {
        "number": citation.number,
        "citation_id": chunk.citation_id,
        "kind": chunk.source_kind,
        "title": chunk.title,
        "url": citation_url(chunk.citation_id, record.pk),
    }


def _results(retrieved: Retrieved | None) -> list[dict] | None:
    if retrieved is None or not retrieved.hits:
        return None
    return [
        {
            "citation_id": hit.chunk.citation_id,
            "kind": hit.chunk.source_kind,
            "title": hit.chunk.title,
            "snippet": hit.snippet,
            "product": hit.product_handle,
            "score": hit.score,
        }
        for hit in retrieved.hits
    ]


def final_payload(record: AnswerRecord, verified: Verified, retrieved: Retrieved | None) -> dict:
    version = record.template_version
    return {
        "answer_id": str(record.pk),
        "capability": record.capability,
        "conversation_id": str(record.conversation_id) if record.conversation_id else None,
        "verdict": verified.verdict,
        "answer": verified.answer,
        "output": verified.output,
        "unconfirmed": list(verified.unconfirmed),
        "results": _results(retrieved) if record.capability == "search" else None,
        "provider": record.provider,
        "model": record.model,
        "template_version": f"{record.capability}@{version.number}" if version else None,
        "cache_hit": record.cache_hit,
        "latency_ms": record.latency_ms,
    }


def answer_payload(record: AnswerRecord, verified: Verified, retrieved: Retrieved | None) -> dict:
    """The JSON response: the final event's fields plus the citations."""
    return {
        **final_payload(record, verified, retrieved),
        "citations": [citation_payload(c, record) for c in verified.citations],
    }
