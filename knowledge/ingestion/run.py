"""One import: stage, decide, then apply, unless it is a dry run or the run is held for review (held.py)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from catalog.models import Tenant
from knowledge.ingestion.apply import APPLY_BATCH, ApplyReport, apply, apply_failures, report_write
from knowledge.ingestion.diff import Decision, decide, decision_of
from knowledge.ingestion.freshness import run_freshness_record
from knowledge.ingestion.held import hold_reasons, ingestion_settings_for, run_hold
from knowledge.ingestion.profile import profile_merge
from knowledge.ingestion.progress import no_progress
from knowledge.ingestion.staging import Progress, ingestion_run_open, stage
from knowledge.models import IngestionRun, StagedRecord

logger = logging.getLogger(__name__)

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
    held: list[dict] = field(default_factory=list)  # why the run waits for review (a dry run: why it would)
    applied: ApplyReport | None = None
    failures: list[StagedRecord] = field(default_factory=list)


def default_report_path(path: Path, run: IngestionRun) -> Path:
    """Beside the feed: feed.jsonl -> feed.jsonl.run-7.report.csv."""
    return path.with_name(f"{path.name}.run-{run.pk}.report.csv")


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    prune: bool = False
    max_reject_share: float | None = None  # None: the tenant's IngestionSettings
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
    """Stage, decide and (unless a dry run or held for review) apply an open run; the caller holds the lock."""
    # Held-run checks apply before anything is written, and never to a run an editor approved.
    checked = run.state != IngestionRun.State.APPLYING and run.reviewed_at is None
    stage(run, path, progress)
    decide(run)
    decision = decision_of(run, examples=DRY_RUN_EXAMPLES if options.dry_run else 0)
    report_path = options.report_path or default_report_path(path, run)
    rows = report_write(run, report_path) if options.write_report else 0
    result = ImportResult(run, resumed, decision, report_path, rows)
    if checked:
        result.held = hold_reasons(run, decision, ingestion_settings_for(run.tenant_id), options.max_reject_share)
    if options.dry_run:
        if run.state != IngestionRun.State.HELD:  # a held run stays in the editors' list
            _finish(run, IngestionRun.State.DECIDED)
    elif result.held:
        run_hold(run, result.held)
    else:
        result.applied = run_apply(run, path, progress, batch_size=options.batch_size, pause_s=options.pause_s)
        result.failures = apply_failures(run)
        if result.failures and options.write_report:
            result.report_rows = report_write(run, report_path)
    return result


def run_apply(run: IngestionRun, path: Path, progress: Progress = no_progress, **batching) -> ApplyReport:
    """Apply a decided run, then complete its profile (and its freshness when nothing waits for indexing)."""
    report = apply(run, path, progress, **batching)
    applied_at = run.finished_at.isoformat()
    run.profile = profile_merge(
        run.pk, counts={"applied": report.applied, "failed": report.failed}, freshness={"applied_at": applied_at}
    ).profile
    run_freshness_record(run)
    return report


def ingestion_run_apply(run_id: int) -> ApplyReport | None:
    """Apply a run an editor approved (the worker's task); a run no longer waiting to apply is left alone."""
    run = IngestionRun.objects.select_related("tenant").get(pk=run_id)
    with tenant_import_lock(run.tenant):
        run.refresh_from_db()
        if run.state != IngestionRun.State.APPLYING:
            return None
        report = run_apply(run, Path(run.source))
    if apply_failures(run) and run.report_path:
        try:
            report_write(run, Path(run.report_path))
        except OSError as exc:  # a worker on another machine: the admin shows the problems all the same
            logger.warning("run %d: the report could not be rewritten (%s)", run.pk, type(exc).__name__)
    return report


def _finish(run: IngestionRun, state: str) -> None:
    run.state = state
    run.save(update_fields=["state"])
