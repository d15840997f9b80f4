"""Thin Celery wrappers: take ids, call a service, retry with back-off."""

from celery import shared_task

from knowledge.ingestion import event_profiles, freshness, retention, run
from knowledge.services import indexing, keyword_packs, spaces

RETRY = dict(autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300, retry_jitter=True, max_retries=8)


@shared_task(name="knowledge.tasks.sources_index", acks_late=True, **RETRY)
def sources_index_task(kind: str, ids: list[int]) -> dict:
    return indexing.sources_index(kind, ids).__dict__


@shared_task(name="knowledge.tasks.index_sweep", acks_late=True, ignore_result=True)
def index_sweep_task() -> dict:
    counts = indexing.index_sweep()
    spaces.embedding_space_backfill_schedule()
    return counts


@shared_task(name="knowledge.tasks.embedding_space_backfill", acks_late=True, **RETRY)
def embedding_space_backfill_task(space_id: int) -> dict:
    return spaces.embedding_space_backfill(space_id)


@shared_task(name="knowledge.tasks.embedding_space_purge", acks_late=True, **RETRY)
def embedding_space_purge_task(space_id: int) -> int:
    return spaces.embedding_space_purge(space_id)


@shared_task(name="knowledge.tasks.keyword_packs_refresh", acks_late=True, ignore_result=True)
def keyword_packs_refresh_task() -> list[str]:
    return [str(pack) for pack in keyword_packs.keyword_packs_refresh()]


@shared_task(name="knowledge.tasks.keyword_pack_build", acks_late=True, **RETRY)
def keyword_pack_build_task(tenant_id: int, locale: str) -> str:
    return str(keyword_packs.keyword_pack_build(tenant_id=tenant_id, locale=locale))


@shared_task(name="knowledge.tasks.ingestion_run_apply", acks_late=True, **RETRY)
def ingestion_run_apply_task(run_id: int) -> dict | None:
    """Apply a held run an editor approved (retried while another import holds the tenant's lock)."""
    report = run.ingestion_run_apply(run_id)
    return report.__dict__ if report else None


@shared_task(name="knowledge.tasks.ingestion_freshness", acks_late=True, ignore_result=True)
def ingestion_freshness_task() -> int:
    return freshness.runs_freshness_update()


@shared_task(name="knowledge.tasks.event_hours_profile", acks_late=True, ignore_result=True)
def event_hours_profile_task() -> int:
    """Profile the change-event hours that have closed (idempotent: a profiled hour is left as it is)."""
    return event_profiles.event_hours_profile()


@shared_task(name="knowledge.tasks.ingestion_prune", acks_late=True, ignore_result=True)
def ingestion_prune_task() -> dict:
    """Delete received events and finished runs' staged writes past their keep periods."""
    return retention.ingestion_prune().__dict__
