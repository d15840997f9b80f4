"""Thin Celery wrappers for governance: the retention purge, run by beat every RETENTION_PURGE_EVERY_S."""

import logging

from celery import shared_task

from governance import retention

logger = logging.getLogger(__name__)


@shared_task(name="governance.tasks.records_purge", acks_late=True, ignore_result=True)
def records_purge_task() -> list[dict]:
    """Purge expired, unheld records of every tenant; log one line per policy (slugs and counts only)."""
    report = retention.purge_report(retention.records_purge())
    for run in report:
        logger.info(
            "retention purge: tenant=%s class=%s cutoff=%s purged=%d skipped_held=%d run=%d",
            run["tenant"], run["record_class"], run["cutoff"], run["purged"], run["skipped_held"], run["run_id"],
        )  # fmt: skip
    return report
