"""Change events: one signed event per request, applied by the feed importer's rules and writers.

An event is `{"id", "type", "version" and/or "occurred_at", "data"}`; `data` is the feed record of the event's
type (docs/feeds.md). It is checked against the feed schema and put in the canonical form a feed line is
staged in, decided as a write API record is (its references looked up by natural key in the source's tenant,
its category's attribute contract checked: knowledge.ingestion.single) and written by the writer an import
uses: through the catalog services, which schedule indexing on commit exactly as an admin edit does.
Everything an event changes, and its bookkeeping (the event's id, the entity's last version, the hour's run
counts, and the applied record as a row of the hour's run for its profile: knowledge.ingestion.event_profiles),
commits in one transaction, or nothing does.

Per source and entity (record type and natural key) the last applied version, or time, is kept: an event
that is not newer is acknowledged as stale and changes nothing but the record that it was received.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from knowledge.ingestion.formats import key_fields, validate_record
from knowledge.ingestion.records import natural_key, record_prepare
from knowledge.ingestion.single import RecordConflict, RecordRejected, staged_apply, staged_decide
from knowledge.models import EntityVersion, EventSource, IngestionRun, ReceivedEvent, StagedRecord

# event type -> (feed record type, whether it deletes)
EVENT_TYPES = {
    "product.upsert": ("product", False),
    "product.delete": ("product", True),
    "price.upsert": ("price", False),
    "stock.upsert": ("stock", False),
}
NO_FILES = Path(".")  # products, prices and stock name no files (only documents do)
HOUR_LABEL = "%Y-%m-%dT%H:00Z"  # an hour's run is `<source name> <hour>`; the labels sort as the hours do


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    data: dict
    version: int | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Receipt:
    """What became of an event that was taken: applied (with its action) or stale (with what is applied)."""

    event_id: str
    outcome: str
    action: str
    entity: str
    run_id: int
    applied_version: int | None = None
    applied_occurred_at: datetime | None = None


class EventRejected(Exception):
    """The event cannot apply: `errors` maps each field (`data.sku`) to what is wrong; nothing was stored."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class EventReplayed(Exception):
    """The source sent an event with this id before: it was taken then, and is not taken again."""


def _rejected(field_name: str, message: str) -> EventRejected:
    return EventRejected({f"data.{field_name}" if field_name else "data": [message]})


def event_record(event: Event, tenant) -> tuple[str, bool, dict]:
    """Return (record type, deleting, the canonical feed record) of the event; raise EventRejected."""
    record_type, deleting = EVENT_TYPES[event.type]
    data = dict(event.data)
    if data.get("type", record_type) != record_type:
        raise _rejected("type", f"a {event.type} event carries a {record_type} record, not {data['type']!r}")
    if deleting:
        kept = (*key_fields(record_type), "tenant")  # a delete naming another tenant is refused like an upsert
        data = {"deleted": True, **{name: data[name] for name in kept if name in data}}
    elif data.get("deleted"):
        raise _rejected("deleted", f"send a {record_type}.delete event to delete")
    record = {**data, "type": record_type}
    problems = validate_record(record)
    if not problems:
        record, problems = record_prepare(record, tenant.slug, NO_FILES)
    if problems:
        raise EventRejected({(f"data.{p.field}" if p.field else "data"): [p.problem] for p in reversed(problems)})
    return record_type, deleting, record


def event_apply(*, source: EventSource, event: Event, now: datetime | None = None) -> Receipt:
    """Apply the event (or acknowledge it as stale) in one transaction; raise EventRejected or EventReplayed."""
    record_type, deleting, record = event_record(event, source.tenant)
    entity = f"{record_type}|{natural_key(record_type, record)}"
    with transaction.atomic():
        return _take(source, event, (record_type, deleting, record), entity, now or timezone.now())


def _take(source: EventSource, event: Event, write: tuple, entity: str, now: datetime) -> Receipt:
    record_type, _, record = write
    run = _hour_run(source, now)  # first: waiting here for another event's new run, we hold no lock yet
    _entity_lock(source, entity)  # events for one entity apply one at a time, in the order they commit
    if ReceivedEvent.objects.filter(source=source, event_id=event.id).exists():
        raise EventReplayed(event.id)
    last = EntityVersion.objects.filter(source=source, entity=entity).first()
    if last is not None and not _newer(event, last, entity):
        _received(source, event, entity, run, ReceivedEvent.Outcome.STALE, "")
        _count(run, record_type, "stale")
        return Receipt(event.id, "stale", "", entity, run.pk, last.version, last.occurred_at)
    staged = _write(source, record_type, record)
    EntityVersion.objects.update_or_create(
        source=source, entity=entity, defaults={"version": event.version, "occurred_at": event.occurred_at}
    )
    _received(source, event, entity, run, ReceivedEvent.Outcome.APPLIED, staged.action)
    _keep(run, source, staged, _count(run, record_type, staged.action))
    return Receipt(event.id, "applied", staged.action, entity, run.pk)


def _entity_lock(source: EventSource, entity: str) -> None:
    """Hold a transaction lock on (source, entity); the 64-bit key space is apart from the imports' lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"event:{source.pk}:{entity}"])


def _newer(event: Event, last: EntityVersion, entity: str) -> bool:
    """Whether the event comes after the last applied one: by version when both have one, else by time."""
    if event.version is not None and last.version is not None:
        return event.version > last.version
    if event.occurred_at is not None and last.occurred_at is not None:
        return event.occurred_at > last.occurred_at
    given, kept = ("version", "occurred_at") if event.version is not None else ("occurred_at", "version")
    message = f"the events applied to {entity} are ordered by `{kept}`: send it (this event has only `{given}`)"
    raise EventRejected({kept: [message]})


def _hour_run(source: EventSource, now: datetime) -> IngestionRun:
    """The run that groups the source's events of this hour (UTC), made by its first event."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    run, _ = IngestionRun.objects.get_or_create(
        tenant_id=source.tenant_id, origin=IngestionRun.Origin.EVENTS, source=f"{source.name} {hour:{HOUR_LABEL}}",
        defaults={"state": IngestionRun.State.APPLIED, "finished_at": now},
    )  # fmt: skip
    return run


def _count(run: IngestionRun, record_type: str, action: str) -> int:
    """Add one event to the run's counts (the row lock orders concurrent events of the hour); return how many
    events of the run applied so far (stale ones left out): the applied event's sequence number in its run."""
    locked = IngestionRun.objects.select_for_update().only("counts").get(pk=run.pk)
    counts = locked.counts or {}
    counts.setdefault(record_type, {})
    counts[record_type][action] = counts[record_type].get(action, 0) + 1
    # finished_at: after the write, so the freshness window holds the rows it changed. An event that commits
    # after its hour was profiled (it waited on a lock past the hour's end) empties the profile: it is made again.
    IngestionRun.objects.filter(pk=run.pk).update(counts=counts, finished_at=timezone.now(), profile={})
    return sum(n for by_action in counts.values() for name, n in by_action.items() if name != "stale")


def _keep(run: IngestionRun, source: EventSource, staged: StagedRecord, sequence: int) -> None:
    """Keep the applied record (the canonical record it wrote, its action) for the hour's profile."""
    staged.run, staged.source, staged.line, staged.applied = run, source.name, sequence, True
    staged.save()


def _received(source, event: Event, entity: str, run: IngestionRun, outcome: str, action: str) -> None:
    try:
        with transaction.atomic():
            ReceivedEvent.objects.create(
                source=source, event_id=event.id, event_type=event.type, entity=entity[:400], version=event.version,
                occurred_at=event.occurred_at, outcome=outcome, action=action, run=run,
            )  # fmt: skip
    except IntegrityError as exc:  # the same id, sent twice at once for two entities: the other one won
        raise EventReplayed(event.id) from exc


def _write(source: EventSource, record_type: str, record: dict) -> StagedRecord:
    """Decide the record as the write API does (references, contract, new or changed) and write it if it changes;
    return it decided (unsaved)."""
    staged = StagedRecord(record_type=record_type, key=natural_key(record_type, record), payload=record)
    try:
        staged_decide(source.tenant, staged)
        if staged.action in StagedRecord.WRITES:
            staged_apply(source.tenant, staged)
    except RecordRejected as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            errors.setdefault(f"data.{problem.field}" if problem.field else "data", []).append(problem.problem)
        raise EventRejected(errors) from exc
    except RecordConflict as exc:
        raise _rejected("", str(exc)) from exc
    return staged
