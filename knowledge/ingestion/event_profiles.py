"""Profiles of change-event hours: a source's hour (one ingestion run of origin `events`) is profiled as a feed
run is (knowledge.ingestion.profile), from the records its events applied, kept as applied rows of the run.

The beat task `event_hours_profile` stores the profile of every hour that has closed (HOUR_GRACE after its end,
so that events in flight at the end commit first). An event that still commits later empties the profile, and
the task makes it again: a stored profile always describes every event of its hour. Drift is measured against
the same source's previous hour with applied events; freshness runs from the hour's first event received to every
row its events wrote being searchable (knowledge.ingestion.freshness). The admin shows the profile of an hour not
profiled yet (the current one) computed on the fly, storing nothing.
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from knowledge.ingestion.diff import NOT_PROFILED
from knowledge.ingestion.events import HOUR_LABEL
from knowledge.ingestion.freshness import FRESHNESS_LOOKBACK, run_freshness
from knowledge.ingestion.profile import profile_build
from knowledge.models import IngestionRun, StagedRecord

HOUR = timedelta(hours=1)
HOUR_GRACE = timedelta(minutes=2)  # events taken just before the hour's end commit before it is profiled
PROFILE_LOOKBACK = FRESHNESS_LOOKBACK  # hours closed longer ago than this are no longer looked for


def is_event_hour(run: IngestionRun) -> bool:
    return run.origin == IngestionRun.Origin.EVENTS


def source_name(run: IngestionRun) -> str:
    """The event source of an hour's run (`<source name> <hour>`; source names are slugs, without spaces)."""
    return run.source.rsplit(" ", 1)[0]


def run_hour(run: IngestionRun) -> datetime:
    """The start (UTC) of the hour whose events the run groups."""
    return datetime.strptime(run.source.rsplit(" ", 1)[1], HOUR_LABEL).replace(tzinfo=UTC)


def hour_closed(run: IngestionRun, now: datetime | None = None) -> bool:
    return run_hour(run) + HOUR + HOUR_GRACE <= (now or timezone.now())


def is_profiled(run: IngestionRun) -> bool:
    """Whether the run holds a whole profile (every one has its version; a freshness merged into a profile an
    event emptied meanwhile is not one)."""
    return "version" in run.profile


def previous_event_hour(run: IngestionRun) -> IngestionRun | None:
    """The same source's latest earlier hour with a profile of applied records: the drift baseline."""
    same_source = IngestionRun.objects.filter(
        tenant_id=run.tenant_id, origin=IngestionRun.Origin.EVENTS, source__startswith=f"{source_name(run)} "
    )
    return (
        same_source.filter(source__lt=run.source, profile__has_key="version")
        .exclude(profile__fields={})
        .order_by("-source")
        .first()
    )


def event_hour_profile(run: IngestionRun) -> dict:
    """Profile the hour from the records its events applied (deletes left out, as in a feed run); store nothing.

    An hour without applied records (only stale events, or deletes) has no drift: there is nothing to compare.
    """
    kept = StagedRecord.objects.filter(run=run, applied=True)
    records = list(kept.exclude(action__in=NOT_PROFILED).order_by("line").values_list("record_type", "payload"))
    profile = profile_build(run, records, [], previous_event_hour(run) if records else None)
    stale = sum(by_action.get("stale", 0) for by_action in (run.counts or {}).values())
    profile["counts"].update(applied=kept.filter(action__in=StagedRecord.WRITES).count(), failed=0, stale=stale)
    profile["freshness"]["applied_at"] = run.finished_at.isoformat()
    profile["freshness"].update(run_freshness(run) or {})
    return profile


@transaction.atomic
def event_hour_profile_store(run_id: int, now: datetime | None = None) -> bool:
    """Store the profile of a closed hour that has none; return whether it was stored (running it twice stores
    once). The run's row lock waits for the events counting into it, as they wait for it."""
    run = IngestionRun.objects.select_for_update().get(pk=run_id)
    if not is_event_hour(run) or is_profiled(run) or not hour_closed(run, now):
        return False
    run.profile = event_hour_profile(run)
    run.save(update_fields=["profile"])
    return True


def event_hours_profile(now: datetime | None = None) -> int:
    """Profile every closed hour that has no profile yet, each source's hours in order; return how many."""
    now = now or timezone.now()
    waiting = (
        IngestionRun.objects.filter(origin=IngestionRun.Origin.EVENTS, created_at__gte=now - PROFILE_LOOKBACK)
        .exclude(profile__has_key="version")
        .only("pk", "source")
        .order_by("source")  # a source's hours sort by time: each finds the one before it profiled
    )
    return sum(event_hour_profile_store(run.pk, now) for run in waiting if hour_closed(run, now))
