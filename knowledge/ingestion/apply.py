"""Apply a decided run in batches: each batch atomic with its records marked applied, so a crash resumes."""

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.indexable import INDEX_BATCH, index_schedule_batched
from knowledge.ingestion.bulk import BULK_ANY, BULK_NEW
from knowledge.ingestion.context import Context
from knowledge.ingestion.rows import rows_update
from knowledge.ingestion.staging import feed_dir
from knowledge.ingestion.writers import WRITERS
from knowledge.models import IngestionRun, StagedRecord

APPLY_BATCH = 2 * INDEX_BATCH  # rows per atomic batch: the rows it changes fill whole indexing tasks
# OSError: a document's file gone between staging and an apply an editor approved later
WRITE_ERRORS = (ValidationError, ProtectedError, ObjectDoesNotExist, DatabaseError, TypeError, ValueError, OSError)

Progress = Callable[..., object]


@dataclass
class ApplyReport:
    applied: int = 0
    failed: int = 0


def apply(run: IngestionRun, path: Path, progress: Progress, batch_size: int = APPLY_BATCH, pause_s: float = 0.0):
    """Apply every decided write not applied yet, in phase order; return how many rows were applied or failed."""
    run.state = IngestionRun.State.APPLYING
    run.save(update_fields=["state"])
    todo = StagedRecord.objects.filter(run=run, applied=False, action__in=StagedRecord.WRITES)
    report, directory = ApplyReport(), feed_dir(path)
    bar = progress(total=todo.count(), desc="apply", unit="row")
    while True:
        batch = list(todo.order_by("phase", "id")[:batch_size])
        if not batch:
            break
        failed = _apply_batch(run, batch, directory)
        report.applied += len(batch) - failed
        report.failed += failed
        bar.update(len(batch))
        if pause_s:
            time.sleep(pause_s)  # leaves the database room between batches (and lets tests stop us mid-run)
    bar.close()
    run.state, run.finished_at = IngestionRun.State.APPLIED, timezone.now()
    run.save(update_fields=["state", "finished_at"])
    return report


@transaction.atomic
def _apply_batch(run: IngestionRun, batch: list[StagedRecord], directory: Path) -> int:
    """Write a batch and mark its records applied in one transaction; a row that fails is reported, not fatal."""
    ctx = Context(run.tenant, directory)
    ctx.prefetch([record.payload for record in batch])
    with index_schedule_batched():
        for group in _same_type(batch):
            for record in _bulk_write(ctx, group):
                _write_one(ctx, record)
    rows_update(StagedRecord, batch, ["applied", "problems"])
    return sum(1 for record in batch if record.problems)


def _same_type(batch: list[StagedRecord]) -> list[list[StagedRecord]]:
    """Split a batch (in phase order) into runs of one record type."""
    groups: list[list[StagedRecord]] = []
    for record in batch:
        if groups and groups[-1][0].record_type == record.record_type:
            groups[-1].append(record)
        else:
            groups.append([record])
    return groups


def _bulk_write(ctx: Context, group: list[StagedRecord]) -> list[StagedRecord]:
    """Write the group's rows that have a bulk path; return the rest (all of it when the database refused)."""
    record_type, Action = group[0].record_type, StagedRecord.Action
    writer = BULK_NEW.get(record_type) or BULK_ANY.get(record_type)
    allowed = (Action.NEW,) if record_type in BULK_NEW else (Action.NEW, Action.CHANGED)
    bulk = [r for r in group if r.action in allowed] if writer else []
    if not bulk:
        return group
    try:
        with transaction.atomic():
            writer(ctx, [r.payload for r in bulk])
    except WRITE_ERRORS:
        ctx.clear()
        return group  # one of them is bad: row by row, each with its own problem
    for record in bulk:
        record.applied = True
    return [r for r in group if not r.applied]


def _write_one(ctx: Context, record: StagedRecord) -> None:
    try:
        with transaction.atomic():
            WRITERS[record.record_type](ctx, record.payload, record.action == StagedRecord.Action.DELETED)
    except WRITE_ERRORS as exc:
        ctx.clear()  # rows it created or deleted were rolled back
        record.problems = [*record.problems, {"field": "", "problem": f"not applied: {_message(exc)}"}]
    record.applied = True


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)[:500]
    if isinstance(exc, ProtectedError):
        return "other rows still refer to it"
    return f"{type(exc).__name__}: {exc}"[:500]


REPORT_COLUMNS = ["file", "line", "type", "key", "field", "problem"]


def report_write(run: IngestionRun, report_path: Path) -> int:
    """Write the run's problems as CSV (file, line, type, key, field, problem); return how many rows."""
    rows = 0
    report_path.parent.mkdir(parents=True, exist_ok=True)
    with open(report_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        records = StagedRecord.objects.filter(run=run).exclude(problems=[]).order_by("source", "line", "id")
        for record in records.iterator(2_000):
            for problem in record.problems:
                writer.writerow([record.source, record.line, record.record_type, record.key, *problem.values()])
                rows += 1
    run.report_path = str(report_path)
    run.save(update_fields=["report_path"])
    return rows


def problem_lines(run: IngestionRun, limit: int) -> list[str]:
    """The run's first problems as "file line N, field F: problem" lines."""
    lines = []
    records = StagedRecord.objects.filter(run=run).exclude(problems=[]).order_by("source", "line", "id")
    for record in records[:limit]:
        where = f"{record.source} line {record.line}" if record.line else f"{record.record_type} {record.key}"
        lines += [f"{where}, field {p['field'] or '-'}: {p['problem']}" for p in record.problems]
    return lines[:limit]


def apply_failures(run: IngestionRun) -> list[StagedRecord]:
    return list(StagedRecord.objects.filter(run=run, applied=True).exclude(problems=[]).order_by("phase", "id"))
