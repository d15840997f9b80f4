"""Stage a feed: every line parsed, validated and stored as a StagedRecord, in committed steps (resumable)."""

from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from catalog.models import Tenant
from knowledge.ingestion.formats import FeedLine, content_hash, feed_files, feed_lines, record_types
from knowledge.ingestion.records import natural_key, record_prepare
from knowledge.models import IngestionRun, StagedRecord

STAGE_BATCH = 1_000  # lines per committed step: a crash loses at most this much staging work

Progress = Callable[..., object]  # tqdm's signature


def feed_dir(path: Path) -> Path:
    """Where a feed's document files are looked up: the feed folder, or the feed file's folder."""
    return path if path.is_dir() else path.parent


@transaction.atomic
def ingestion_run_open(*, tenant: Tenant, path: Path, prune: bool) -> tuple[IngestionRun, bool]:
    """Return the unfinished run of this feed (same content) to resume, or a new one; and whether resumed."""
    digest = content_hash(feed_files(path))
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()  # one opener at a time per tenant
    unfinished = IngestionRun.objects.filter(
        tenant=tenant, origin=IngestionRun.Origin.FEED, content_hash=digest, prune=prune,
        state__in=IngestionRun.UNFINISHED,
    )  # fmt: skip
    run = unfinished.order_by("-created_at").first()
    if run is not None:
        return run, True
    return IngestionRun.objects.create(tenant=tenant, source=str(path), content_hash=digest, prune=prune), False


def _staged(run: IngestionRun, tenant: Tenant, line: FeedLine, directory: Path) -> StagedRecord:
    problems, record = list(line.problems), line.record
    record_type, key = "", ""
    if record is not None and not problems:
        record, found = record_prepare(record, tenant.slug, directory)
        problems += found
    if isinstance(record, dict) and record.get("type") in record_types():
        record_type = record["type"]
        key = natural_key(record_type, record) if not problems else ""
    return StagedRecord(
        run=run,
        source=line.source,
        line=line.line,
        record_type=record_type,
        key=key[:400],
        payload=record if isinstance(record, dict) and not problems else {},
        problems=[{"field": p.field, "problem": p.problem} for p in problems],
        action=StagedRecord.Action.REJECTED if problems else "",
    )


def stage(run: IngestionRun, path: Path, progress: Progress) -> int:
    """Stage the feed's lines after those staged already; return how many lines this call staged."""
    if run.state != IngestionRun.State.STAGING:
        return 0
    total = sum(p.stat().st_size for p, _ in feed_files(path))
    directory, staged, batch = feed_dir(path), 0, []
    bar = progress(total=total, desc="stage", unit="B", unit_scale=True)
    for line in feed_lines(path, run.staged_through):
        batch.append(_staged(run, run.tenant, line, directory))
        bar.update(line.size)
        if len(batch) >= STAGE_BATCH:
            staged += _commit(run, batch)
            batch = []
    staged += _commit(run, batch)
    bar.close()
    run.state = IngestionRun.State.STAGED
    run.save(update_fields=["state"])
    return staged


@transaction.atomic
def _commit(run: IngestionRun, batch: list[StagedRecord]) -> int:
    """Store a step's records and the run's position in the same transaction."""
    if not batch:
        return 0
    StagedRecord.objects.bulk_create(batch, ignore_conflicts=True)
    for record in batch:
        run.staged_through[record.source] = max(run.staged_through.get(record.source, 0), record.line)
    run.save(update_fields=["staged_through"])
    return len(batch)
