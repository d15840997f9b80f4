"""Ingestion's working rows are pruned after their keep periods; what a run reports stays."""

from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge.ingestion.event_sources import event_source_create
from knowledge.ingestion.retention import ingestion_prune
from knowledge.models import IngestionRun, ReceivedEvent, StagedRecord
from tests import factories

pytestmark = pytest.mark.django_db


def _event(source, run, event_id: str, age: timedelta) -> ReceivedEvent:
    event = ReceivedEvent.objects.create(
        source=source, event_id=event_id, event_type="price.upsert", entity=f"price|retail|{event_id}", version=1,
        outcome="applied", action="changed", run=run,
    )  # fmt: skip
    ReceivedEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - age)
    return event


def _run(tenant, source: str, state: str, age: timedelta) -> IngestionRun:
    run = IngestionRun.objects.create(
        tenant=tenant, source=source, content_hash=source.ljust(64, "0"), state=state,
        finished_at=timezone.now() - age, counts={"product": {"new": 2, "rejected": 1}},
    )  # fmt: skip
    for line, problems in ((1, []), (2, []), (3, [{"field": "price", "problem": "not a number"}])):
        StagedRecord.objects.create(
            run=run, source="feed.jsonl", line=line, record_type="product", key=f"p-{line}", problems=problems,
            action="rejected" if problems else "new", applied=not problems,
        )  # fmt: skip
    return run


def test_ingestion_prune__old_events_and_finished_runs_writes_go_reports_and_recent_rows_stay(settings):
    settings.INGESTION_EVENTS_KEEP_DAYS, settings.INGESTION_STAGED_KEEP_DAYS = 7, 30
    tenant = factories.TenantFactory()
    source = event_source_create(tenant=tenant, name="pim").source
    hour = IngestionRun.objects.create(tenant=tenant, origin="events", source="pim 2026-01-01T00:00Z")
    old_event, new_event = (
        _event(source, hour, "old", timedelta(days=8)),
        _event(source, hour, "new", timedelta(days=1)),
    )
    old_run = _run(tenant, "old.jsonl", IngestionRun.State.APPLIED, timedelta(days=31))
    recent_run = _run(tenant, "recent.jsonl", IngestionRun.State.APPLIED, timedelta(days=2))
    held_run = _run(tenant, "held.jsonl", IngestionRun.State.HELD, timedelta(days=90))

    pruned = ingestion_prune()

    assert (pruned.events, pruned.staged) == (1, 2)
    assert list(ReceivedEvent.objects.values_list("pk", flat=True)) == [new_event.pk]
    assert not ReceivedEvent.objects.filter(pk=old_event.pk).exists()
    kept_old = StagedRecord.objects.filter(run=old_run)
    assert [(r.line, r.action) for r in kept_old] == [(3, "rejected")]  # the validation report stays
    assert StagedRecord.objects.filter(run=recent_run).count() == 3
    assert StagedRecord.objects.filter(run=held_run).count() == 3  # a held run waits for its review
    old_run.refresh_from_db()
    assert old_run.counts == {"product": {"new": 2, "rejected": 1}}  # the run's own figures stay
    assert ingestion_prune() == type(pruned)(0, 0)  # idempotent
