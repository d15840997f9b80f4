"""One import: stage, decide, then apply unless it is a dry run or too many lines were rejected."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from catalog.models import Tenant
from knowledge.ingestion.apply import APPLY_BATCH, ApplyReport, apply, apply_failures, report_write
from knowledge.ingestion.diff import DEFAULT_REJECT_SHARE, Decision, decide, decision_of
from knowledge.ingestion.progress import no_progress
from knowledge.ingestion.staging import Progress, ingestion_run_open, stage
from knowledge.models import IngestionRun, StagedRecord

DRY_RUN_EXAMPLES = 20  # changes a dry run lists after its counts
LOCK_NAMESPACE = 18_001  # pg advisory lock (namespace, tenant id): one import per tenant at a time


class ImportBusy(Exception):
    """Another import into the same tenant is running."""


@contextmanager
def tenant_import_lock(tenant: Tenant) -> Iterator[None]:
    """Hold the tenant's import lock (held by the connection: a killed importer's connection releases it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])
        if not cursor.fetchone()[0]:
            raise ImportBusy(f"another import into {tenant.slug!r} is running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])


@dataclass
class ImportResult:
    run: IngestionRun
    resumed: bool
    decision: Decision
    report_path: Path
    report_rows: int
    refused: bool = False
    applied: ApplyReport | None = None
    failures: list[StagedRecord] = field(default_factory=list)


def default_report_path(path: Path, run: IngestionRun) -> Path:
    """Beside the feed: feed.jsonl -> feed.jsonl.run-7.report.csv."""
    return path.with_name(f"{path.name}.run-{run.pk}.report.csv")


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    prune: bool = False
    max_reject_share: float = DEFAULT_REJECT_SHARE
    report_path: Path | None = None
    batch_size: int = APPLY_BATCH
    pause_s: float = 0.0
    write_report: bool = True  # the CSV report beside the feed (the bulk API returns the problems instead)


def feed_import(
    *, tenant: Tenant, path: Path, options: ImportOptions = ImportOptions(), progress: Progress = no_progress
) -> ImportResult:
    """Run (or resume) the import of the feed at `path` into `tenant` (raises ImportBusy while another runs)."""
    with tenant_import_lock(tenant):
        return _import(tenant, path, options, progress)


def _import(tenant: Tenant, path: Path, options: ImportOptions, progress: Progress) -> ImportResult:
    run, resumed = ingestion_run_open(tenant=tenant, path=path, prune=options.prune)
    return import_phases(run, resumed, path, options, progress)


def import_phases(
    run: IngestionRun, resumed: bool, path: Path, options: ImportOptions, progress: Progress = no_progress
) -> ImportResult:
    """Stage, decide and (unless a dry run or refused) apply an open run; the caller holds the tenant's lock."""
    stage(run, path, progress)
    decide(run)
    decision = decision_of(run, examples=DRY_RUN_EXAMPLES if options.dry_run else 0)
    report_path = options.report_path or default_report_path(path, run)
    rows = report_write(run, report_path) if options.write_report else 0
    result = ImportResult(run, resumed, decision, report_path, rows)
    if options.dry_run:
        _finish(run, IngestionRun.State.DECIDED)
    elif decision.reject_share > options.max_reject_share:
        _finish(run, IngestionRun.State.REFUSED)
        result.refused = True
    else:
        result.applied = apply(run, path, progress, batch_size=options.batch_size, pause_s=options.pause_s)
        result.failures = apply_failures(run)
        if result.failures and options.write_report:
            result.report_rows = report_write(run, report_path)
    return result


def _finish(run: IngestionRun, state: str) -> None:
    run.state = state
    run.save(update_fields=["state"])
