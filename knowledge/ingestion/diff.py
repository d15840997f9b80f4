"""Decide: compare the staged records with the live catalog by natural key (new, changed, unchanged, deleted).

Cross-record problems are found here: duplicate keys, references to rows that neither the feed nor the
catalog holds (or that this feed rejects or deletes), and a SKU code that belongs to another product.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from knowledge.ingestion import snapshot
from knowledge.ingestion.formats import key_fields
from knowledge.ingestion.records import ORDER, compared_fields, key_space, natural_key, phase
from knowledge.ingestion.rows import rows_update
from knowledge.models import IngestionRun, StagedRecord

Action = StagedRecord.Action
DEFAULT_REJECT_SHARE = 0.10  # more rejected lines than this and nothing applies: the feed is likely broken
SAVE_BATCH = 10_000  # decided records written per statement: bounds the statement's size on a huge feed


@dataclass
class Decision:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    lines: int = 0
    rejected: int = 0
    examples: list[StagedRecord] = field(default_factory=list)  # the first writes, for --dry-run

    @property
    def reject_share(self) -> float:
        return self.rejected / self.lines if self.lines else 0.0


class _Catalog:
    """The live rows of the types a decision needs, as canonical records by natural key (read once)."""

    def __init__(self, tenant):
        self.tenant = tenant
        self._live: dict[str, dict[str, dict]] = {}

    def live(self, record_type: str) -> dict[str, dict]:
        if record_type not in self._live:
            self._live[record_type] = {natural_key(record_type, r): r for r in snapshot.LIVE[record_type](self.tenant)}
        return self._live[record_type]


def _reject(record: StagedRecord, field_name: str, problem: str) -> None:
    record.action = Action.REJECTED
    record.problems = [*record.problems, {"field": field_name, "problem": problem}]


def _mark_duplicates(records: list[StagedRecord]) -> None:
    """Reject every record whose key another record of the feed also has (which one is right is unknown)."""
    seen = defaultdict(list)
    for record in records:
        seen[(key_space(record.record_type), record.key)].append(record)
    for same in seen.values():
        if len(same) > 1:
            for record in same:
                others = ", ".join(f"{o.source}:{o.line}" for o in same if o is not record)
                key_field = key_fields(record.record_type)[0]
                _reject(record, key_field, f"duplicate key {record.key!r}: also on line {others}")


# (field, referenced type): what each record type points at by natural key (a null reference names nothing)
REFERENCES = {
    "category": [],
    "customer_group": [("categories", "category")],
    "price_list": [("customer_group", "customer_group")],
    "warehouse": [],
    "product": [("category", "category")],
    "sku": [("product", "product")],
    "price": [("price_list", "price_list"), ("sku", "sku")],
    "stock": [("warehouse", "warehouse"), ("sku", "sku")],
    "policy": [],
    "document": [("product", "product")],
    "review": [("product", "product")],
}


class _Available:
    """Which keys a reference may name: live rows, overlaid with the feed's valid upserts and deletes."""

    def __init__(self, catalog: _Catalog):
        self.catalog = catalog
        self.keys: dict[str, dict[str, str]] = {}  # type -> key -> path (categories) or key
        self.why: dict[tuple[str, str], str] = {}  # (type, key) -> why it is unavailable

    def of(self, record_type: str) -> dict[str, str]:
        if record_type not in self.keys:
            live = self.catalog.live(record_type)
            self.keys[record_type] = {k: r.get("path", k) for k, r in live.items()}
        return self.keys[record_type]

    def problem(self, record_type: str, value: str) -> str | None:
        key = value.rsplit("/", 1)[-1] if record_type == "category" else value
        if self.of(record_type).get(key) == value:
            return None
        why = self.why.get((record_type, key))
        if why:
            return f"{record_type.replace('_', ' ')} {value!r} {why}"
        if record_type == "category" and key in self.of(record_type):
            return f"unknown category {value!r} (the category {key!r} has the path {self.of(record_type)[key]!r})"
        return f"unknown {record_type.replace('_', ' ')} {value!r}"

    def settle(self, record: StagedRecord) -> None:
        """Take a decided record's effect on what later references may name."""
        keys = self.of(record.record_type)
        if record.action == Action.REJECTED:
            if record.key and record.key not in keys:
                self.why[(record.record_type, record.key)] = f"is rejected on line {record.source}:{record.line}"
        elif record.action == Action.DELETED or record.payload.get("deleted"):
            keys.pop(record.key, None)
            self.why[(record.record_type, record.key)] = "is deleted by this feed"
        else:
            keys[record.key] = record.payload.get("path", record.key)


def _references(record: StagedRecord):
    """Yield (field, referenced type, value) for every key the record names."""
    parent = record.payload.get("path", "").rpartition("/")[0]
    if record.record_type == "category" and parent:
        yield "path", "category", parent
    for field_name, target in REFERENCES[record.record_type]:
        yield field_name, target, record.payload.get(field_name)


def _check_references(record: StagedRecord, available: _Available) -> None:
    if record.payload.get("deleted"):
        return
    for field_name, target, value in _references(record):
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            problem = available.problem(target, item)
            if problem:
                _reject(record, field_name, problem)
                return


def _action(record: StagedRecord, catalog: _Catalog) -> str:
    live = catalog.live(record.record_type).get(record.key)
    if record.payload.get("deleted"):
        return Action.DELETED if live is not None else Action.UNCHANGED
    if live is None:
        return Action.NEW
    if record.record_type == "sku" and live["product"] != record.payload["product"]:
        _reject(record, "product", f"SKU {record.key!r} belongs to product {live['product']!r}")
        return Action.REJECTED
    record.changes = [name for name in compared_fields(record.payload) if record.payload[name] != live.get(name)]
    return Action.CHANGED if record.changes else Action.UNCHANGED


def _depth(record: StagedRecord) -> int:
    return record.payload.get("path", "").count("/")


def _prune_records(run: IngestionRun, records: list[StagedRecord], catalog: _Catalog) -> list[StagedRecord]:
    """For each type the feed holds: a delete for every live row the feed does not name."""
    named = defaultdict(set)
    for record in records:
        named[record.record_type].add(record.key)
    pruned = []
    for record_type in ORDER:
        if record_type not in named:
            continue
        for key, live in catalog.live(record_type).items():
            if key not in named[record_type]:
                payload = {"type": record_type, "deleted": True, **{f: live[f] for f in key_fields(record_type)}}
                pruned.append(
                    StagedRecord(run=run, source="", line=0, record_type=record_type, key=key, payload=payload)
                )
    return pruned


def decide(run: IngestionRun) -> Decision:
    """Set every unapplied record's action and apply phase; store the counts on the run."""
    StagedRecord.objects.filter(run=run, line=0, applied=False).delete()  # prune deletes are decided afresh
    records = list(StagedRecord.objects.filter(run=run, applied=False).order_by("id"))
    catalog = _Catalog(run.tenant)
    valid = []
    for record in records:
        if record.payload:  # staged valid; a decision from an earlier attempt is made again
            record.action, record.problems, record.changes = "", [], []
            valid.append(record)
    _mark_duplicates(valid)
    if run.prune:
        pruned = _prune_records(run, records, catalog)
        for record in pruned:
            record.action = Action.DELETED
        valid += pruned
    available = _Available(catalog)
    for record_type in ORDER:
        # parents first: a category's parent is settled before the category is checked
        for record in sorted((r for r in valid if r.record_type == record_type), key=_depth):
            if record.action != Action.REJECTED:
                _check_references(record, available)
            if record.action == "":
                record.action = _action(record, catalog)
            available.settle(record)
    for record in valid:
        record.phase = phase(record.record_type, record.payload, record.action == Action.DELETED)
    _save(run, records, [r for r in valid if r.pk is None])
    return decision_of(run)


@transaction.atomic
def _save(run: IngestionRun, records: list[StagedRecord], pruned: list[StagedRecord]) -> None:
    for start in range(0, len(records), SAVE_BATCH):
        rows_update(StagedRecord, records[start : start + SAVE_BATCH], ["action", "problems", "changes", "phase"])
    StagedRecord.objects.bulk_create(pruned, batch_size=2_000)
    run.counts = _counts(run)
    run.save(update_fields=["counts"])


def _counts(run: IngestionRun) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record_type, action in StagedRecord.objects.filter(run=run).values_list("record_type", "action"):
        counts[record_type or "unreadable"][action] += 1
    return {t: dict(c) for t, c in counts.items()}


def decision_of(run: IngestionRun, examples: int = 0) -> Decision:
    """Summarise a decided run: counts by type and action, lines read, lines rejected, the first writes."""
    staged = StagedRecord.objects.filter(run=run, line__gt=0)
    decision = Decision(counts=run.counts, lines=staged.count(), rejected=staged.filter(action=Action.REJECTED).count())
    if examples:
        writes = StagedRecord.objects.filter(run=run, action__in=StagedRecord.WRITES).order_by("phase", "id")
        decision.examples = list(writes[:examples])
    return decision
