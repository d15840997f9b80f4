"""What a client receives: the same dictionaries for the JSON response and for the server-sent events."""

from urllib.parse import quote

from django.urls import reverse

from assistant.pipeline.types import Citation, Retrieved, Scope, Verified
from governance.models import AnswerRecord, Verdict

ABSTAIN_MESSAGES = {
    "product_unavailable": "The conversation's product is no longer available; only the policies were searched.",
    "nothing_retrieved": "Nothing in {where} matches the question.",
    "weak_retrieval": "The passages found in {where} cover too little of the question to answer from.",
    "provider_error": "The answer could not be drafted; ask again.",
    "unsupported": "The passages found in {where} do not confirm an answer.",
    "not_answered": "Nothing in {product} answers this question.",
}
WHERE = {"product": "the product's content or the policies", "document": "the document"}


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


def _reason(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def abstain_code(verified: Verified, retrieved: Retrieved | None, scope: Scope, route_reason: str) -> str | None:
    """Say why an abstained answer abstained, as a short code (None for other verdicts)."""
    if verified.verdict != Verdict.ABSTAINED:
        return None
    if scope.kind == "product" and not scope.available:
        return "product_unavailable"
    if retrieved is None or not retrieved.passages:
        return "nothing_retrieved"
    if route_reason.startswith("abstain"):
        return "weak_retrieval"
    if route_reason.startswith("error"):
        return "provider_error"
    return verified.abstain or "unsupported"


def abstain_reason(record: AnswerRecord, scope: Scope) -> dict | None:
    """The recorded abstain reason as a code and a message (None when the answer did not abstain)."""
    code = record.abstain_reason
    if record.verdict != Verdict.ABSTAINED or not code:
        return None
    where = WHERE.get(scope.kind, "the catalog or the policies")
    name = f"{scope.title or scope.product}'s information" if scope.kind == "product" and scope.product else where
    return _reason(code, ABSTAIN_MESSAGES[code].format(where=where, product=name))


def final_payload(record: AnswerRecord, verified: Verified, retrieved: Retrieved | None, scope: Scope) -> dict:
    version = record.template_version
    return {
        "answer_id": str(record.pk),
        "capability": record.capability,
        "conversation_id": str(record.conversation_id) if record.conversation_id else None,
        "product": scope.product,
        "scope": scope.kind,
        "scope_reason": _reason(*scope.reason) if scope.reason else None,
        "verdict": verified.verdict,
        "abstain_reason": abstain_reason(record, scope),
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


def answer_payload(record: AnswerRecord, verified: Verified, retrieved: Retrieved | None, scope: Scope) -> dict:
    """The JSON response: the final event's fields plus the citations."""
    return {
        **final_payload(record, verified, retrieved, scope),
        "citations": [citation_payload(c, record) for c in verified.citations],
    }
