"""Tamper evidence: each tenant's answer records form a hash chain; `chain_verify` walks it.

record_hash = sha256(prev_hash | chain_seq | content_hash), prev_hash being the tenant's previous record_hash
("" for the first). content_hash covers every retained content field, the claims and the citations, in a
canonical JSON computed from the stored row. A purge lists each removed record's (id, chain_seq,
record_hash) in its PurgeRun, so the links around it still verify and its gap is explained; ChainHead keeps
the last link, so a removed tail shows too.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from governance.locks import tenant_xact_lock
from governance.models import AnswerRecord, ChainHead, PurgeRun

CHAIN_LOCK = 0x6763_6831  # pg_advisory_xact_lock(class, tenant): one writer per tenant chain
VERIFY_BATCH = 500  # records (with their claims and citations) fetched per round trip

# The content fields, in a fixed order. Not hashed: the chain columns themselves, content_hash, and the
# customer_group / api_key links, which PostgreSQL sets to NULL when the group or key is deleted.
CONTENT_FIELDS = (
    "id", "tenant_id", "capability", "conversation_id", "locale", "question", "history", "prompt",
    "template_version_id", "embedding_space", "reranker_version", "provider", "model", "route_reason", "risk",
    "confidence", "retrieved", "draft", "answer", "output", "verdict", "unconfirmed", "latency_ms",
    "prompt_tokens", "completion_tokens", "cost_estimate", "cache_hit", "created_at",
)  # fmt: skip
# Fields added after records were sealed: hashed only when set, so the records sealed before still verify.
LATER_FIELDS = ("product", "abstain_reason")


def chain_lock(tenant_id: int) -> None:
    """Serialize chain writers of one tenant until the transaction ends."""
    tenant_xact_lock(CHAIN_LOCK, tenant_id)


def answer_content(record: AnswerRecord) -> dict:
    """Return the record's retained content as plain JSON values (claims and citations prefetched or not)."""
    content = {}
    for name in CONTENT_FIELDS:
        value = getattr(record, name)
        if name == "created_at":
            value = value.isoformat(timespec="microseconds")
        elif name in ("id", "conversation_id", "cost_estimate") and value is not None:
            value = str(value)
        content[name] = value
    content.update({name: getattr(record, name) for name in LATER_FIELDS if getattr(record, name)})
    claims = sorted(record.claims.all(), key=lambda c: (c.ordinal, c.pk))
    ordinals = {c.pk: c.ordinal for c in claims}
    content["claims"] = [[c.ordinal, c.text, c.drafted, c.status, c.reasons] for c in claims]
    citations = [[c.number, c.citation_id, ordinals.get(c.claim_id), c.chunk_id] for c in record.citations.all()]
    content["citations"] = sorted(citations, key=lambda c: (c[0], -1 if c[2] is None else c[2], c[3], c[1]))
    return content


def answer_content_hash(record: AnswerRecord) -> str:
    """Hash the canonical JSON of the record's content (sorted keys, no whitespace, UTF-8)."""
    payload = json.dumps(answer_content(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def link_hash(prev_hash: str, chain_seq: int, content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{chain_seq}|{content_hash}".encode()).hexdigest()


def chain_next(tenant_id: int) -> tuple[int, str]:
    """Return (chain_seq, prev_hash) for the tenant's next record; call under chain_lock."""
    head = ChainHead.objects.filter(tenant_id=tenant_id).values_list("seq", "record_hash").first()
    return (head[0] + 1, head[1]) if head else (1, "")


def chain_advance(tenant_id: int, seq: int, record_hash: str) -> None:
    """Move the tenant's head to the record just sealed; call under chain_lock."""
    if seq == 1:
        ChainHead.objects.create(tenant_id=tenant_id, seq=seq, record_hash=record_hash)
    else:
        ChainHead.objects.filter(tenant_id=tenant_id).update(seq=seq, record_hash=record_hash)


# Verification ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | relinked | broken-link | removed | head | unchained
    chain_seq: int | None
    record_id: str
    detail: str


@dataclass
class ChainReport:
    tenant: str
    records: int = 0
    purged: int = 0
    head: int = 0
    problems: list[Problem] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)


def purged_links(tenant_id: int) -> dict[int, tuple[str, str]]:
    """Return {chain_seq: (record id, record_hash)} of every record a logged purge removed."""
    links = {}
    for removed in PurgeRun.objects.filter(tenant_id=tenant_id).values_list("removed", flat=True):
        for record_id, seq, record_hash in removed:
            if seq is not None:
                links[int(seq)] = (str(record_id), record_hash)
    return links


def _chained(tenant_id: int) -> Iterator[AnswerRecord]:
    records = AnswerRecord.objects.filter(tenant_id=tenant_id, chain_seq__isnull=False).order_by("chain_seq")
    return records.prefetch_related("claims", "citations").iterator(chunk_size=VERIFY_BATCH)


def _check_record(record: AnswerRecord, links: dict[int, tuple[str, str]]) -> list[Problem]:
    seq, rid, found = record.chain_seq, str(record.pk), []
    if answer_content_hash(record) != record.content_hash:
        found.append(Problem("altered", seq, rid, "its content no longer matches its content hash"))
    if link_hash(record.prev_hash, seq, record.content_hash) != record.record_hash:
        found.append(Problem("relinked", seq, rid, "its record hash does not match its own fields"))
    expected = links[seq - 1][1] if seq > 1 and seq - 1 in links else ("" if seq == 1 else None)
    if expected is not None and record.prev_hash != expected:
        found.append(Problem("broken-link", seq, rid, f"its prev_hash does not match record #{seq - 1}"))
    return found


def chain_verify(tenant, *, progress=None) -> ChainReport:
    """Walk one tenant's chain in chain_seq order; name every altered record and every unexplained gap."""
    report = ChainReport(tenant=tenant.slug)
    purged = purged_links(tenant.pk)
    stored = dict(
        AnswerRecord.objects.filter(tenant=tenant, chain_seq__isnull=False).values_list("chain_seq", "record_hash")
    )
    links = {**{seq: ("", h) for seq, h in stored.items()}, **{s: v for s, v in purged.items() if s not in stored}}
    report.purged = len(set(purged) - set(stored))
    for record in _chained(tenant.pk):
        report.records += 1
        report.problems += _check_record(record, links)
        if progress is not None:
            progress.update(1)
    head = ChainHead.objects.filter(tenant=tenant).values_list("seq", "record_hash").first()
    report.head = head[0] if head else 0
    last = max(links, default=0)
    if head is None and last:
        report.problems.append(Problem("head", None, "", "the chain head is missing"))
    elif head is not None and head[0] in links and links[head[0]][1] != head[1]:
        report.problems.append(Problem("head", head[0], "", "the chain head does not match this record's hash"))
    elif head is not None and last > head[0]:
        report.problems.append(Problem("head", last, "", f"records beyond the chain head (#{head[0]})"))
    for seq in range(1, max(last, report.head) + 1):
        if seq not in links:
            report.problems.append(Problem("removed", seq, "", "missing, and no purge run lists it"))
    for rid in AnswerRecord.objects.filter(tenant=tenant, chain_seq__isnull=True).values_list("pk", flat=True):
        report.problems.append(Problem("unchained", None, str(rid), "not in the chain (written outside the service)"))
    report.problems.sort(key=lambda p: (p.chain_seq or 0, p.kind))
    return report
