"""Run profiles: counts, the shape and distribution of every field, drift against the previous applied run of
the same tenant and origin, PII flags and freshness.

`profile_build` runs at decide over the rows the run writes or confirms (rejected lines and deletes left out);
`profile_merge` adds what apply did and, later, when every row became searchable (knowledge.ingestion.freshness).
A change-event hour is profiled the same way once it closes (knowledge.ingestion.event_profiles).

Fields are named `<type>.<field>`: `product.title`, `product.attributes.power_w`,
`product.translations.de.title`, `price.amount` (amounts and rates count as numbers). A field's type is the
JSON type most of its values have: text, number, boolean, list or object.

Drift compares the fields both runs hold, for the record types both runs carry (a price feed after a full
catalog feed does not lose the product fields):

- fields appearing or vanishing, and fields whose type changed;
- distributions, by the population stability index PSI = sum over bins of (c - p) * ln(c / p), p the previous
  run's share of a bin and c this run's (an empty bin counts as PSI_FLOOR). Numbers, and the length of free
  text, are binned at the previous run's deciles; other text and booleans by the previous run's top values
  plus one bin for the rest. The usual reading: under 0.1 stable, 0.1 to 0.25 moderate, over 0.25 a major
  shift. The median's move (numbers) and the largest change of a top value's share (text) are kept beside it.

PII: text values holding an e-mail address, a phone number, or a card or IBAN number (core.pii) are counted
per field. Only field names and counts are stored, never a value: a top value holding PII is kept as PII_VALUE.
"""

import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core.pii import Kind, pii_find
from knowledge.models import IngestionRun

PROFILE_VERSION = 1
ACTIONS = ("new", "changed", "unchanged", "deleted", "rejected")
TOP_VALUES = 20  # values kept per text field; the rest share one bin
VALUE_CHARS = 100  # a top value is kept to this many characters
MAX_FIELDS = 500  # the most frequent fields are profiled; more attribute keys than this is a feed problem itself
FREE_TEXT_DISTINCT = 0.5  # a text field with more distinct values than this share (and TOP_VALUES) is free text
DECILES = 10
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
PSI_FLOOR = 1e-4  # the share an empty bin counts as, so PSI stays finite
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
PII_KINDS = (Kind.EMAIL, Kind.PHONE, Kind.CARD, Kind.IBAN)
PII_HINT = re.compile(r"@|\d[\d\s().+/-]{5,}\d")  # an "@" or 7+ characters of digits: the detector's candidates
PII_SCAN_MAX = 20_000  # distinct candidate values scanned per field; past it the counts are a lower bound
PII_VALUE = "(a value holding PII)"
OTHER = "(other values)"
DECIMAL_FIELDS = ("amount", "margin_rate", "conversion_rate")  # exact strings in a feed, numbers here
SKIPPED = ("type", "tenant", "deleted", "file")


def record_fields(record_type: str, payload: dict):
    """Yield (field name, value) for a record: attributes and translations one level down."""
    for name, value in payload.items():
        if name in SKIPPED:
            continue
        prefix = f"{record_type}.{name}"
        if name == "attributes" and isinstance(value, dict):
            for key, item in value.items():
                yield f"{prefix}.{key}", item
        elif name == "translations" and isinstance(value, dict):
            for locale, texts in value.items():
                for key, item in texts.items() if isinstance(texts, dict) else ():
                    yield f"{prefix}.{locale}.{key}", item
        elif name in DECIMAL_FIELDS and isinstance(value, str):
            yield prefix, _decimal(value)
        else:
            yield prefix, value


def _decimal(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _finite(value) -> float | None:
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def value_type(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "object"


class FieldValues:
    """One field's values in a run: types counted, numbers listed, text and booleans counted by value."""

    def __init__(self):
        self.types: Counter[str] = Counter()
        self.numbers: list[float] = []
        self.texts: Counter[str] = Counter()
        self.booleans: Counter[str] = Counter()

    def add(self, value) -> None:
        kind = value_type(value)
        if kind is None:
            return
        self.types[kind] += 1
        if kind == "number":
            number = _finite(value)
            if number is not None:
                self.numbers.append(number)
        elif kind == "text":
            self.texts[value] += 1
        elif kind == "boolean":
            self.booleans["true" if value else "false"] += 1

    @property
    def present(self) -> int:
        return sum(self.types.values())

    @property
    def type(self) -> str:
        return max(self.types, key=lambda kind: (self.types[kind], kind))

    def is_free_text(self) -> bool:
        return len(self.texts) > TOP_VALUES and len(self.texts) > FREE_TEXT_DISTINCT * sum(self.texts.values())

    def lengths(self) -> list[float]:
        return [float(len(text)) for text, n in self.texts.items() for _ in range(n)]

    def keyed(self, holding_pii: set[str]) -> Counter[str]:
        """The text values as a profile keeps them: cut to VALUE_CHARS, PII replaced by PII_VALUE."""
        if self.type == "boolean":
            return self.booleans
        keyed: Counter[str] = Counter()
        for text, n in self.texts.items():
            keyed[PII_VALUE if text in holding_pii else text[:VALUE_CHARS]] += n
        return keyed

    def distribution(self, holding_pii: set[str]) -> dict | None:
        if self.type == "number" and self.numbers:
            return numeric(self.numbers)
        if self.type == "text" and self.is_free_text():
            return numeric(self.lengths(), kind="length")
        if self.type in ("text", "boolean"):
            return categorical(self.keyed(holding_pii))
        return None


def _quantile(ordered: list[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _bin_shares(values: list[float], edges: list[float]) -> list[float]:
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect_left(edges, value)] += 1
    return [round(count / len(values), 6) for count in counts]


def numeric(values: list[float], kind: str = "numeric") -> dict:
    """Quantiles, decile edges and this run's share of each decile bin (the next run's PSI reference)."""
    ordered = sorted(values)
    edges = sorted({_quantile(ordered, i / DECILES) for i in range(1, DECILES)})
    return {
        "kind": kind, "n": len(ordered), "min": ordered[0], "max": ordered[-1],
        "quantiles": {f"p{round(q * 100)}": _quantile(ordered, q) for q in QUANTILES},
        "edges": edges, "shares": _bin_shares(ordered, edges),
    }  # fmt: skip


def categorical(counts: Counter[str]) -> dict:
    total = sum(counts.values())
    top = {value: round(n / total, 6) for value, n in counts.most_common(TOP_VALUES)}
    return {"kind": "categorical", "n": total, "distinct": len(counts), "top": top,
            "other": round(max(0.0, 1 - sum(top.values())), 6)}  # fmt: skip


def psi(previous: list[float], current: list[float]) -> float:
    """Population stability index of `current` against `previous` (shares of the same bins)."""
    return sum(
        (max(c, PSI_FLOOR) - max(p, PSI_FLOOR)) * math.log(max(c, PSI_FLOOR) / max(p, PSI_FLOOR))
        for p, c in zip(previous, current, strict=True)
    )


def field_drift(before: dict, values: FieldValues, holding_pii: set[str]) -> dict | None:
    """How this run's values of a field moved against the previous run's distribution of it."""
    if before["kind"] in ("numeric", "length"):
        current = values.numbers if before["kind"] == "numeric" else values.lengths()
        if not current:
            return None
        median = _quantile(sorted(current), 0.5)
        drift = psi(before["shares"], _bin_shares(current, before["edges"]))
        return {"kind": before["kind"], "psi": round(drift, 4), "median": [before["quantiles"]["p50"], median]}
    counts = values.keyed(holding_pii)
    total = sum(counts.values())
    if not total:
        return None
    keys = list(before["top"])
    current = [counts.get(key, 0) / total for key in keys]
    current.append(max(0.0, 1 - sum(current)))
    previous = [before["top"][key] for key in keys] + [before["other"]]
    change = max(zip(keys + [OTHER], previous, current, strict=True), key=lambda kpc: abs(kpc[2] - kpc[1]))
    return {"kind": "categorical", "psi": round(psi(previous, current), 4),
            "top_change": {"value": change[0], "from": round(change[1], 4), "to": round(change[2], 4)}}  # fmt: skip


def _record_type(field_name: str) -> str:
    return field_name.split(".", 1)[0]


def drift_against(previous: IngestionRun | None, fields: dict[str, FieldValues], summaries: dict, pii) -> dict:
    """Fields appearing, vanishing, changing type, and distributions moving since the previous applied run."""
    if previous is None:
        return {"previous_run": None, "appeared": [], "vanished": [], "type_changes": [], "fields": [], "max_psi": 0.0}
    before = previous.profile.get("fields", {})
    shared = {_record_type(f) for f in summaries} & {_record_type(f) for f in before}
    type_changes, moved = [], []
    for name in sorted(set(summaries) & set(before)):
        old, new = before[name], summaries[name]
        if old["type"] != new["type"]:
            type_changes.append({"field": name, "from": old["type"], "to": new["type"]})
        elif old.get("distribution"):
            drift = field_drift(old["distribution"], fields[name], pii.get(name, set()))
            if drift is not None:
                moved.append({"field": name, **drift})
    moved.sort(key=lambda m: (-m["psi"], m["field"]))
    return {
        "previous_run": previous.pk,
        "appeared": sorted(f for f in summaries if f not in before and _record_type(f) in shared),
        "vanished": sorted(f for f in before if f not in summaries and _record_type(f) in shared),
        "type_changes": type_changes,
        "fields": moved,
        "max_psi": moved[0]["psi"] if moved else 0.0,
    }


def pii_scan(values: FieldValues) -> tuple[dict[str, int], set[str]]:
    """Per PII kind, the values (counted with repeats) holding one; and which distinct values do (kept in memory).

    Only values with an "@" or a run of digits reach the detector; each distinct value is scanned once.
    """
    found: Counter[str] = Counter()
    holding: set[str] = set()
    scanned = 0
    for text, n in values.texts.items():
        if not PII_HINT.search(text):
            continue
        if scanned == PII_SCAN_MAX:
            found["sampled"] = 1  # the counts are a lower bound
            break
        scanned += 1
        kinds = {span.kind for span in pii_find(text) if span.kind in PII_KINDS}
        for kind in kinds:
            found[kind] += n
        if kinds:
            holding.add(text)
    return dict(found), holding


def previous_applied_run(run: IngestionRun) -> IngestionRun | None:
    """The tenant's last applied run of the same origin before this one that has a profile (the drift baseline)."""
    return (
        IngestionRun.objects.filter(
            tenant_id=run.tenant_id, origin=run.origin, state=IngestionRun.State.APPLIED, created_at__lt=run.created_at
        )
        .exclude(pk=run.pk)
        .exclude(profile={})
        .order_by("-created_at")
        .first()
    )


def count_totals(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """Counts by action over every record type: new, changed, unchanged, deleted, rejected."""
    return {action: sum(by_action.get(action, 0) for by_action in counts.values()) for action in ACTIONS}


def profile_build(
    run: IngestionRun, records: Iterable[tuple[str, dict]], missing: list[dict], previous: IngestionRun | None
) -> dict:
    """The profile of a decided run from its (record type, payload) pairs; `missing`: required attributes lacking;
    `previous`: the run to measure drift against (previous_applied_run for a feed), None for no drift."""
    collected: dict[str, FieldValues] = defaultdict(FieldValues)
    for record_type, payload in records:
        for name, value in record_fields(record_type, payload):
            collected[name].add(value)
    kept = sorted(((n, v) for n, v in collected.items() if v.present), key=lambda nv: (-nv[1].present, nv[0]))
    fields = dict(kept[:MAX_FIELDS])
    pii_counts, holding = {}, {}
    for name, values in fields.items():
        found, holding[name] = pii_scan(values)
        if found:
            pii_counts[name] = found
    summaries = {
        name: {"type": values.type, "types": dict(values.types), "present": values.present,
               "distribution": values.distribution(holding[name])}
        for name, values in fields.items()
    }  # fmt: skip
    return {
        "version": PROFILE_VERSION,
        "decided_at": timezone.now().isoformat(),
        "counts": count_totals(run.counts),
        "fields": summaries,
        "drift": drift_against(previous, fields, summaries, holding),
        "pii": pii_counts,
        "contracts": {"missing": missing},
        "freshness": {"started_at": run.created_at.isoformat(), "applied_at": None, "indexed_at": None,
                      "seconds": None},
    }  # fmt: skip


@transaction.atomic
def profile_merge(run_id: int, **sections: dict) -> IngestionRun:
    """Update sections of a run's profile (row locked: apply and the freshness check may both write)."""
    run = IngestionRun.objects.select_for_update().get(pk=run_id)
    for name, values in sections.items():
        run.profile[name] = {**run.profile.get(name, {}), **values}
    run.save(update_fields=["profile"])
    return run
