"""One import: stage, decide, then apply unless it is a dry run or too many lines were rejected."""

from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import Tenant
from knowledge.ingestion.apply import APPLY_BATCH, ApplyReport, apply, apply_failures, report_write
from knowledge.ingestion.diff import DEFAULT_REJECT_SHARE, Decision, decide, decision_of
from knowledge.ingestion.models import IngestionRun, StagedRecord
from knowledge.ingestion.progress import no_progress
from knowledge.ingestion.staging import Progress, ingestion_run_open, stage

DRY_RUN_EXAMPLES = 20  # changes a dry run lists after its counts


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


def feed_import(
    *,
    tenant: Tenant,
    path: Path,
    dry_run: bool = False,
    prune: bool = False,
    max_reject_share: float = DEFAULT_REJECT_SHARE,
    report_path: Path | None = None,
    progress: Progress = no_progress,
    batch_size: int = APPLY_BATCH,
    pause_s: float = 0.0,
) -> ImportResult:
    """Run (or resume) the import of the feed at `path` into `tenant`."""
    run, resumed = ingestion_run_open(tenant=tenant, path=path, prune=prune)
    stage(run, path, progress)
    decide(run)
    decision = decision_of(run, examples=DRY_RUN_EXAMPLES if dry_run else 0)
    report_path = report_path or default_report_path(path, run)
    result = ImportResult(run, resumed, decision, report_path, report_write(run, report_path))
    if dry_run:
        _finish(run, IngestionRun.State.DECIDED)
    elif decision.reject_share > max_reject_share:
        _finish(run, IngestionRun.State.REFUSED)
        result.refused = True
    else:
        result.applied = apply(run, path, progress, batch_size=batch_size, pause_s=pause_s)
        result.failures = apply_failures(run)
        if result.failures:
            result.report_rows = report_write(run, report_path)
    return result


def _finish(run: IngestionRun, state: str) -> None:
    run.state = state
    run.save(update_fields=["state"])
