"""Decide: compare the staged records with the live catalog by natural key (new, changed, unchanged, deleted).

Cross-record problems are found here: duplicate keys, references to rows that neither the feed nor the
catalog holds (or that this feed rejects or deletes), a SKU code that belongs to another product, and a
product whose attributes break its category's contract (knowledge.ingestion.contracts). The run's profile
(knowledge.ingestion.profile) is computed from the decided records and stored with the counts.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from knowledge.ingestion import snapshot
from knowledge.ingestion.contracts import RecordContracts
from knowledge.ingestion.formats import key_fields
from knowledge.ingestion.profile import previous_applied_run, profile_build
from knowledge.ingestion.records import ORDER, compared_fields, key_space, natural_key, phase
from knowledge.ingestion.rows import rows_update
from knowledge.models import IngestionRun, StagedRecord

Action = StagedRecord.Action
NOT_PROFILED = (Action.REJECTED, Action.DELETED)  # a profile describes the rows a run writes or confirms
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
    """The live rows of the types a decision needs, as canonical records by natural key (read once).

    With `only` (record type -> keys) it reads just those rows: what deciding one record needs.
    """

    def __init__(self, tenant, only: dict[str, set[str]] | None = None):
        self.tenant, self.only = tenant, only
        self._live: dict[str, dict[str, dict]] = {}
        self._kinds: dict[str, str] | None = None

    def _keys(self, record_type: str) -> set[str] | None:
        return None if self.only is None else self.only.get(record_type, set())

    def live(self, record_type: str) -> dict[str, dict]:
        if record_type not in self._live:
            keys = self._keys(record_type)
            rows = snapshot.LIVE[record_type](self.tenant, keys) if keys is None or keys else []
            self._live[record_type] = {natural_key(record_type, r): r for r in rows}
        return self._live[record_type]

    def document_kind(self, slug: str) -> str | None:
        """The kind of the live document with this slug, whatever its record type."""
        if self._kinds is None:
            keys = None if self.only is None else {k for t in DOCUMENT_TYPES for k in self._keys(t)}
            self._kinds = snapshot.document_kinds(self.tenant, keys)
        return self._kinds.get(slug)


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
    "qa": [("product", "product")],
}
DOCUMENT_TYPES = ("document", "review", "qa")  # one slug space, told apart by the document's kind


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
    if live is None and record.record_type in DOCUMENT_TYPES:
        kind = catalog.document_kind(record.key)
        if kind is not None:  # the slug is taken by a document of another record type
            _reject(record, "slug", f"the slug {record.key!r} belongs to a document of kind {kind!r}")
            return Action.REJECTED
    if live is None:
        return Action.NEW
    if record.record_type == "sku" and live["product"] != record.payload["product"]:
        _reject(record, "product", f"SKU {record.key!r} belongs to product {live['product']!r}")
        return Action.REJECTED
    record.changes = [name for name in compared_fields(record.payload) if record.payload[name] != live.get(name)]
    return Action.CHANGED if record.changes else Action.UNCHANGED


def _check_contract(record: StagedRecord, catalog: _Catalog, contracts: RecordContracts) -> bool:
    """Reject a product that breaks its contract; return whether its attributes were coerced."""
    if record.record_type != "product" or record.payload.get("deleted"):
        return False
    attributes = record.payload.get("attributes")
    for problem in contracts.check(record.payload, catalog.live("product").get(record.key)):
        _reject(record, problem.field, problem.problem)
    return record.payload.get("attributes") is not attributes


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
    """Set every unapplied record's action and apply phase; store the counts and the profile on the run."""
    StagedRecord.objects.filter(run=run, line=0, applied=False).delete()  # prune deletes are decided afresh
    records = list(StagedRecord.objects.filter(run=run, applied=False).order_by("id"))
    catalog, contracts = _Catalog(run.tenant), RecordContracts(run.tenant_id)
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
    available, coerced = _Available(catalog), []
    for record_type in ORDER:
        # parents first: a category's parent is settled before the category is checked
        for record in sorted((r for r in valid if r.record_type == record_type), key=_depth):
            if record.action != Action.REJECTED:
                _check_references(record, available)
            if record.action == "" and _check_contract(record, catalog, contracts):
                coerced.append(record)
            if record.action == "":
                record.action = _action(record, catalog)
            available.settle(record)
    for record in valid:
        record.phase = phase(record.record_type, record.payload, record.action == Action.DELETED)
    _save(run, records, [r for r in valid if r.pk is None], coerced, contracts)
    return decision_of(run)


@transaction.atomic
def _save(run: IngestionRun, records, pruned, coerced, contracts: RecordContracts) -> None:
    """Store the decisions, the coerced payloads, the counts and the profile in one transaction."""
    for start in range(0, len(records), SAVE_BATCH):
        rows_update(StagedRecord, records[start : start + SAVE_BATCH], ["action", "problems", "changes", "phase"])
    StagedRecord.objects.bulk_update(coerced, ["payload"], batch_size=2_000)
    StagedRecord.objects.bulk_create(pruned, batch_size=2_000)
    run.counts = _counts(run)
    profiled = [(r.record_type, r.payload) for r in records if r.payload and r.action not in NOT_PROFILED]
    applied = StagedRecord.objects.filter(run=run, applied=True).exclude(action__in=NOT_PROFILED)
    profiled += list(applied.values_list("record_type", "payload"))  # a resumed run's earlier batches
    missing = [m.as_dict() for m in contracts.missing_shares()]
    run.profile = profile_build(run, profiled, missing, previous_applied_run(run))
    run.save(update_fields=["counts", "profile"])


def _counts(run: IngestionRun) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record_type, action in StagedRecord.objects.filter(run=run).values_list("record_type", "action"):
        counts[record_type or "unreadable"][action] += 1
    return {t: dict(c) for t, c in counts.items()}


def decide_one(tenant, record: StagedRecord) -> None:
    """Decide one record (unsaved) against the live rows it names and its category's attribute contract."""
    only: dict[str, set[str]] = defaultdict(set)
    only[record.record_type].add(record.key)
    for _, target, value in _references(record):
        for item in value if isinstance(value, list) else [value] if value else []:
            only[target].add(natural_key(target, {"path": item}) if target == "category" else item)
    catalog = _Catalog(tenant, only)
    record.action, record.changes = "", []
    _check_references(record, _Available(catalog))
    if record.action == "":
        _check_contract(record, catalog, RecordContracts(tenant.pk))
    if record.action == "":
        record.action = _action(record, catalog)
    record.phase = phase(record.record_type, record.payload, record.action == Action.DELETED)


def decision_of(run: IngestionRun, examples: int = 0) -> Decision:
    """Summarise a decided run: counts by type and action, lines read, lines rejected, the first writes."""
    staged = StagedRecord.objects.filter(run=run, line__gt=0)
    decision = Decision(counts=run.counts, lines=staged.count(), rejected=staged.filter(action=Action.REJECTED).count())
    if examples:
        writes = StagedRecord.objects.filter(run=run, action__in=StagedRecord.WRITES).order_by("phase", "id")
        decision.examples = list(writes[:examples])
    return decision
