"""Export answer records for review or discovery: a zip of `records.jsonl` and `manifest.json`.

Verifiable with standard tools: `sha256sum records.jsonl` equals the manifest's `jsonl_sha256`, each line's
sha256 is listed beside the record's id, chain position and hashes (`chain_seq`, `record_hash`,
`content_hash`), so a record can be checked against the tenant's hash chain and against the export.
Every export is written to the audit log, one event per tenant, with counts and hashes, never content.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.models import AnswerRecord
from governance.review import (
    Reviewer,
    answer_record_citations,
    answer_record_claims,
    answer_record_detail_prefetch,
    answer_record_list,
    answer_record_versions,
)

EXPORT_FORMAT = "answer-records/1"
EXPORT_MAX = 5_000  # records per export: built in memory; a larger export is a narrower date range
JSONL_NAME, MANIFEST_NAME = "records.jsonl", "manifest.json"


class ExportTooLarge(Exception):
    pass


@dataclass(frozen=True)
class RecordsExport:
    filename: str
    content: bytes  # the zip
    manifest: dict
    count: int


def answer_record_document(record: AnswerRecord) -> dict:
    """Return one record as exported (needs `answer_record_detail_prefetch`)."""
    return {
        "id": str(record.id),
        "tenant": record.tenant.slug,
        "created_at": record.created_at.isoformat(),
        "capability": record.capability,
        "locale": record.locale,
        "conversation_id": str(record.conversation_id) if record.conversation_id else None,
        "product": record.product or None,
        "customer_group": record.customer_group.code if record.customer_group_id else None,
        "question": record.question,
        "history": record.history,
        "prompt": record.prompt,  # retained prompts hold PII tokens, never the values
        "draft": record.draft,
        "answer": record.answer,
        "output": record.output,
        "verdict": record.verdict,
        "abstain_reason": record.abstain_reason or None,
        "risk": record.risk,
        "confidence": record.confidence,
        "unconfirmed": record.unconfirmed,
        "versions": answer_record_versions(record),
        "latency_ms": record.latency_ms,
        "tokens": {"prompt": record.prompt_tokens, "completion": record.completion_tokens},
        "cost_estimate": str(record.cost_estimate),
        "cache_hit": record.cache_hit,
        "claims": answer_record_claims(record),
        "citations": [
            {**c, "retired_at": c["retired_at"].isoformat() if c["retired_at"] else None}
            for c in answer_record_citations(record)
        ],
        "content_hash": record.content_hash,
        "chain_seq": record.chain_seq,
        "prev_hash": record.prev_hash,
        "record_hash": record.record_hash,
    }


def _line(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@transaction.atomic
def records_export(*, reviewer: Reviewer, records, actor=None, via: str) -> RecordsExport:
    """Export the records of `records` that `reviewer` may see; audit it per tenant; return the zip."""
    visible = answer_record_list(reviewer=reviewer, queryset=records).order_by("tenant_id", "chain_seq", "created_at")
    count = visible.count()
    if count > EXPORT_MAX:
        raise ExportTooLarge(f"{count} records selected; export at most {EXPORT_MAX} at once.")
    jsonl, entries, per_tenant = io.BytesIO(), [], {}
    for record in answer_record_detail_prefetch(visible).iterator(chunk_size=200):
        line = _line(answer_record_document(record))
        tenant, n = per_tenant.get(record.tenant_id, (record.tenant, 0))
        per_tenant[record.tenant_id] = (tenant, n + 1)
        jsonl.write(line)
        entries.append(
            {
                "id": str(record.id),
                "tenant": record.tenant.slug,
                "chain_seq": record.chain_seq,
                "record_hash": record.record_hash,
                "content_hash": record.content_hash,
                "line_sha256": hashlib.sha256(line).hexdigest(),
            }
        )
    body = jsonl.getvalue()
    now = timezone.now()
    manifest = {
        "format": EXPORT_FORMAT,
        "created_at": now.isoformat(),
        "count": len(entries),
        "jsonl": JSONL_NAME,
        "jsonl_sha256": hashlib.sha256(body).hexdigest(),
        "records": entries,
    }
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(JSONL_NAME, body)
        zf.writestr(MANIFEST_NAME, manifest_bytes)
    for _, (tenant, n) in sorted(per_tenant.items()) or [(None, (None, 0))]:  # an empty export is audited too
        audit_record(
            action="records.export",
            actor=actor,
            tenant=tenant,
            detail={
                "via": via,
                "count": n,
                "total": len(entries),
                "jsonl_sha256": manifest["jsonl_sha256"],
                "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                "api_key": reviewer.api_key.prefix if reviewer.api_key else None,
            },
        )
    filename = f"answer-records-{now:%Y%m%dT%H%M%SZ}.zip"
    return RecordsExport(filename=filename, content=archive.getvalue(), manifest=manifest, count=len(entries))
