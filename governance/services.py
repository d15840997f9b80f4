"""Governance writes. Answer records are written once, with their claims and citations, in one transaction."""

import hashlib
import json

from django.db import transaction

from governance.models import AnswerCitation, AnswerClaim, AnswerRecord


def answer_content_hash(*, question: str, answer: str, output, citation_ids: list[str], verdict: str) -> str:
    """Fingerprint what was served (retention and audit in issue 5 chain these)."""
    payload = json.dumps([question, answer, output, citation_ids, verdict], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@transaction.atomic
def answer_record_create(*, claims, citations, **fields) -> AnswerRecord:
    """Write an answer, its claims (sentences, removed ones too) and the chunk versions each claim cites.

    `claims` are pipeline Claims; `citations` are pipeline Citations (number as the client sees it, chunk).
    """
    fields["content_hash"] = answer_content_hash(
        question=fields["question"],
        answer=fields.get("answer", ""),
        output=fields.get("output"),
        citation_ids=[c.citation_id for c in citations],
        verdict=fields["verdict"],
    )
    record = AnswerRecord.objects.create(**fields)
    rows = AnswerClaim.objects.bulk_create(
        AnswerClaim(answer=record, ordinal=i, text=c.text, drafted=c.drafted, status=c.status, reasons=list(c.reasons))
        for i, c in enumerate(claims)
    )
    by_number = {c.number: c for c in citations}
    links = []
    for claim, row in zip(claims, rows, strict=True):
        for number in claim.numbers:
            if number in by_number:
                chunk = by_number[number].chunk
                links.append(
                    AnswerCitation(answer=record, claim=row, number=number, citation_id=chunk.citation_id, chunk=chunk)
                )
    cited = {link.number for link in links}
    links += [
        AnswerCitation(answer=record, number=c.number, citation_id=c.citation_id, chunk=c.chunk)
        for c in citations
        if c.number not in cited  # e.g. a classification's evidence: cited by the answer, not by a sentence
    ]
    AnswerCitation.objects.bulk_create(links)
    return record
