"""How long ingestion keeps its working rows: received change events and the staged records of finished runs.

A run's counts, profile, report and held reasons stay with the run for good. What grows without bound is the
rows behind them:

- a `ReceivedEvent` is needed to refuse a replayed event id; once it is older than the signing window it can no
  longer be replayed (its timestamp is refused), and the order of later events is kept per entity by
  `EntityVersion`, so after `INGESTION_EVENTS_KEEP_DAYS` it goes;
- a finished run's (applied or discarded) staged records are the diff the admin shows; after
  `INGESTION_STAGED_KEEP_DAYS` its writes go, its rejected lines (the validation report) stay.

Both are past the freshness and profile look-back, so nothing measured later reads them.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from knowledge.ingestion.freshness import FRESHNESS_LOOKBACK
from knowledge.models import IngestionRun, ReceivedEvent, StagedRecord

FINISHED = (IngestionRun.State.APPLIED, IngestionRun.State.DISCARDED)


@dataclass(frozen=True)
class Pruned:
    events: int
    staged: int


def ingestion_prune(*, now=None) -> Pruned:
    """Delete received events and finished runs' staged writes past their keep periods; return how many."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.EVENT_TIMESTAMP_TOLERANCE_S)
    events_before = now - max(timedelta(days=settings.INGESTION_EVENTS_KEEP_DAYS), window, FRESHNESS_LOOKBACK)
    staged_before = now - max(timedelta(days=settings.INGESTION_STAGED_KEEP_DAYS), FRESHNESS_LOOKBACK)
    events, _ = ReceivedEvent.objects.filter(received_at__lt=events_before).delete()
    finished = IngestionRun.objects.filter(state__in=FINISHED, finished_at__lt=staged_before)
    staged, _ = StagedRecord.objects.filter(run__in=finished, problems=[]).delete()
    return Pruned(events, staged)
