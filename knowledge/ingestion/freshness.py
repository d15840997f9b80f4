"""Freshness: from a run's start (its first row received) to every row it wrote being searchable.

A run's indexable rows are those whose change was noted (`index_changed_at`) between the run's start and the
end of its apply: the products, SKUs (a product's title and attributes are part of its SKUs' text), policies
and documents it wrote, and any edit an editor made meanwhile. They are searchable once none of them waits for
indexing (core.indexable's hash pair); the instant is the latest `indexed_at` among them, or the end of the
apply when the run wrote no indexable row (prices and stock are read live). The beat task
`ingestion_freshness` records it in the run's profile; a run still waiting after FRESHNESS_LOOKBACK (a row
whose indexing keeps failing) is no longer checked.
"""

from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from core.indexable import PENDING
from knowledge.ingestion.profile import profile_merge
from knowledge.models import IngestionRun
from knowledge.sources import SOURCES

FRESHNESS_LOOKBACK = timedelta(days=2)


def run_searchable_at(run: IngestionRun) -> datetime | None:
    """When every row the run wrote became searchable, or None while some still wait for indexing."""
    window = dict(tenant_id=run.tenant_id, index_changed_at__gte=run.created_at, index_changed_at__lte=run.finished_at)
    latest = run.finished_at
    for spec in SOURCES.values():
        rows = spec.model.objects.filter(**window)
        if rows.filter(PENDING).exists():
            return None
        indexed = rows.aggregate(last=Max("indexed_at"))["last"]
        if indexed is not None and indexed > latest:
            latest = indexed
    return latest


def run_freshness(run: IngestionRun) -> dict | None:
    """The profile's `indexed_at` and `seconds` (from the run's start) once every row is searchable, else None."""
    searchable = run_searchable_at(run)
    if searchable is None:
        return None
    return {"indexed_at": searchable.isoformat(), "seconds": round((searchable - run.created_at).total_seconds(), 3)}


def run_freshness_record(run: IngestionRun) -> bool:
    """Store the run's freshness in its profile once every row is searchable; return whether it was stored."""
    if run.state != IngestionRun.State.APPLIED or run.finished_at is None or not run.profile:
        return False
    if run.profile.get("freshness", {}).get("indexed_at"):
        return False
    fresh = run_freshness(run)
    if fresh is None:
        return False
    profile_merge(run.pk, freshness=fresh)
    return True


def runs_freshness_update(now: datetime | None = None) -> int:
    """Record the freshness of every recently applied run that has none yet; return how many were recorded."""
    since = (now or timezone.now()) - FRESHNESS_LOOKBACK
    waiting = IngestionRun.objects.filter(
        state=IngestionRun.State.APPLIED, finished_at__gte=since, profile__freshness__indexed_at=None
    )
    return sum(run_freshness_record(run) for run in waiting.order_by("finished_at"))
