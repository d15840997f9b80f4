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

from knowledge.ingestion.models import IngestionRun, StagedRecord
from knowledge.ingestion.staging import feed_dir
from knowledge.ingestion.writers import WRITERS, Context
from knowledge.services.indexing import INDEX_BATCH, index_schedule_batched

APPLY_BATCH = 2 * INDEX_BATCH  # rows per atomic batch: the rows it changes fill whole indexing tasks
WRITE_ERRORS = (ValidationError, ProtectedError, ObjectDoesNotExist, DatabaseError, TypeError, ValueError)

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
    ctx, failed = Context(run.tenant, directory), 0
    with index_schedule_batched():
        for record in batch:
            try:
                with transaction.atomic():
                    WRITERS[record.record_type](ctx, record.payload, record.action == StagedRecord.Action.DELETED)
            except WRITE_ERRORS as exc:
                ctx.clear()  # rows it created or deleted were rolled back
                record.problems = [*record.problems, {"field": "", "problem": f"not applied: {_message(exc)}"}]
                failed += 1
            record.applied = True
    StagedRecord.objects.bulk_update(batch, ["applied", "problems"])
    return failed


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
