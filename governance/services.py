"""Governance writes. Answer records are written once, with their claims and citations, in one transaction.

Each record is sealed into its tenant's hash chain in the same transaction (see governance/chain.py).
"""

from django.db import transaction

from governance import chain
from governance.models import AnswerCitation, AnswerClaim, AnswerRecord


@transaction.atomic
def answer_record_create(*, claims, citations, **fields) -> AnswerRecord:
    """Write an answer, its claims (sentences, removed ones too) and the chunk versions each claim cites.

    `claims` are pipeline Claims; `citations` are pipeline Citations (number as the client sees it, chunk).
    The record gets the tenant's next chain_seq under the tenant's chain lock; its hashes are computed from
    the stored rows after the insert (so created_at and every stored value are what verification reads).
    """
    tenant_id = fields["tenant"].pk if "tenant" in fields else fields["tenant_id"]
    chain.chain_lock(tenant_id)
    seq, prev_hash = chain.chain_next(tenant_id)
    record = AnswerRecord.objects.create(chain_seq=seq, prev_hash=prev_hash, **fields)
    _parts_create(record, claims, citations)
    stored = AnswerRecord.objects.prefetch_related("claims", "citations").get(pk=record.pk)
    record.content_hash = chain.answer_content_hash(stored)
    record.record_hash = chain.link_hash(prev_hash, seq, record.content_hash)
    AnswerRecord.objects.filter(pk=record.pk).update(content_hash=record.content_hash, record_hash=record.record_hash)
    chain.chain_advance(tenant_id, seq, record.record_hash)
    return record


def _parts_create(record: AnswerRecord, claims, citations) -> None:
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
