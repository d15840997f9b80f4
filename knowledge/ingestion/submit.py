"""Feeds sent to the bulk API: one import run per Idempotency-Key, staged, decided and applied as import_catalog does.

The same key with the same feed returns its run (resuming it if a crash interrupted it) and applies nothing
twice; the same key with another feed, or with a dry run where the first was applied, is a conflict.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from catalog.models import Tenant
from knowledge.ingestion.formats import content_hash, feed_files
from knowledge.ingestion.run import ImportOptions, import_phases, tenant_import_lock
from knowledge.models import IngestionRun, StagedRecord

FEED_MAX_BYTES = 16 * 2**20  # one request's feed; a larger catalog goes in several requests or to import_catalog
IDEMPOTENCY_KEY_MAX = 200  # IngestionRun.idempotency_key
FEED_FILES = {"jsonl": "feed.jsonl", "csv": "feed.csv"}  # the name its lines are reported under
SHOWN_MAX = 1_000  # problems and changes a response lists (the counts cover them all)


class IdempotencyConflict(Exception):
    """The Idempotency-Key names a run of another feed, or of a dry run where this is an import (or the reverse)."""


@dataclass(frozen=True)
class Submitted:
    run: IngestionRun
    created: bool  # False: the key's earlier run, returned (and finished if it had been interrupted)


def feed_submit(*, tenant: Tenant, body: bytes, feed_format: str, idempotency_key: str, dry_run: bool) -> Submitted:
    """Import a feed body (jsonl or csv) into the tenant once per key; raise IdempotencyConflict or ImportBusy."""
    with tempfile.TemporaryDirectory(prefix="feed-") as directory:
        path = Path(directory) / FEED_FILES[feed_format]
        path.write_bytes(body)
        digest = content_hash(feed_files(path))
        with tenant_import_lock(tenant):
            run, created = _run_for_key(tenant, idempotency_key, digest, dry_run, len(body))
            if not _finished(run):
                options = ImportOptions(dry_run=dry_run, write_report=False)
                import_phases(run, not created, path, options)
                run.refresh_from_db()
    return Submitted(run, created)


def _run_for_key(tenant: Tenant, key: str, digest: str, dry_run: bool, size: int) -> tuple[IngestionRun, bool]:
    """The key's run (when it was for this feed and mode) or a new one; the caller holds the tenant's lock."""
    run = IngestionRun.objects.filter(tenant=tenant, idempotency_key=key).first()
    if run is None:
        source = f"bulk API, {size:,} bytes"
        run = IngestionRun.objects.create(
            tenant=tenant, origin=IngestionRun.Origin.API, source=source, content_hash=digest,
            idempotency_key=key, dry_run=dry_run,
        )  # fmt: skip
        return run, True
    if run.content_hash != digest:
        raise IdempotencyConflict(
            f"The Idempotency-Key {key!r} was used for run {run.pk} with another feed body; "
            "send a new key for a new feed."
        )
    if run.dry_run != dry_run:
        used = "a dry run" if run.dry_run else "an import"
        raise IdempotencyConflict(f"The Idempotency-Key {key!r} was used for {used} (run {run.pk}); send a new key.")
    return run, False


def _finished(run: IngestionRun) -> bool:
    State = IngestionRun.State
    done = (State.APPLIED, State.HELD, State.DISCARDED)  # a held run is the editors' to apply
    return run.state in done or (run.dry_run and run.state == State.DECIDED)


# Reads of a run for the API ----------------------------------------------------------------------------------


def run_problems(run: IngestionRun, limit: int = SHOWN_MAX) -> tuple[list[dict], int]:
    """The run's first problems as rows (line, type, key, field, problem) and how many there are in all."""
    rows, total = [], 0
    records = StagedRecord.objects.filter(run=run).exclude(problems=[]).order_by("source", "line", "id")
    for record in records.iterator(2_000):
        for problem in record.problems:
            total += 1
            if len(rows) < limit:
                rows.append({"line": record.line, "type": record.record_type, "key": record.key, **problem})
    return rows, total


def run_changes(run: IngestionRun, limit: int = SHOWN_MAX) -> tuple[list[dict], int]:
    """The writes the run decided (line, type, key, action, changed fields) in apply order, and their number."""
    writes = StagedRecord.objects.filter(run=run, action__in=StagedRecord.WRITES).order_by("phase", "id")
    rows = [
        {"line": r.line, "type": r.record_type, "key": r.key, "action": r.action, "changes": r.changes}
        for r in writes[:limit]
    ]
    return rows, writes.count()
