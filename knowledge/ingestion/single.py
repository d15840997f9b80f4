"""Write one record now (the write API) through the importer's own path: schema, checks, decision and writer.

A record is validated as a feed line is (`validate_record`, `record_prepare`), decided against the live rows it
names (`decide_one`: unknown references, a SKU code of another product, a slug of another kind) and written by
the importer's writer in one transaction that schedules indexing on commit. A rejected record changes nothing.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import ProtectedError

from catalog.models import SKU, Product, Tenant
from core.indexable import index_schedule_batched
from knowledge.ingestion import snapshot
from knowledge.ingestion.context import Context
from knowledge.ingestion.diff import decide_one
from knowledge.ingestion.formats import Problem, key_fields, validate_record
from knowledge.ingestion.records import natural_key, record_prepare
from knowledge.ingestion.writers import WRITERS
from knowledge.models import Document, Policy, StagedRecord

Action = StagedRecord.Action


class Mode(StrEnum):
    CREATE = "create"  # POST: a new row; its key must be free
    REPLACE = "replace"  # PUT: the whole record; what it leaves out takes a new row's value
    MERGE = "merge"  # PATCH: the live record with the given fields changed
    SET = "set"  # PUT of a price or stock level: the whole record, created when missing
    DELETE = "delete"


class RecordRejected(Exception):
    """The record is invalid: each problem names its field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.field or '-'}: {p.problem}" for p in problems))
        self.problems = problems


class RecordNotFound(Exception):
    """The URL names a row (or a row the key refers to) that does not exist."""


class RecordConflict(Exception):
    """The key is taken (a create), or the database refused the write (rows still refer to it, a race)."""


@dataclass(frozen=True)
class Written:
    action: str  # new, changed, unchanged or deleted
    changes: list[str]
    record: dict | None  # the row as now stored, in feed form (None once deleted)
    version: int | None  # the row's version (a policy's published version); None for prices and stock


# PUT replaces a record: an optional field it leaves out takes the value a new row gets.
REPLACE_DEFAULTS = {
    "product": {"brand": "", "description": "", "attributes": {}, "translations": {}, "media": [],
                "compliance_category": "none", "is_active": True},
    "sku": {"attributes": {}, "is_active": True, "margin_rate": "0", "conversion_rate": "0"},
    "policy": {"locale": "en"},
    "document": {"locale": "en", "product": None},
    "review": {"rating": None, "locale": "en"},
    "qa": {"question": "", "author": "", "locale": "en"},
}  # fmt: skip
MODEL_FIELDS = {"source_file": "file", "__all__": ""}  # a model's field name -> the record's
LABELS = {"qa": "Q&A", "sku": "SKU", "stock": "stock level"}


def record_get(tenant: Tenant, record_type: str, key: dict) -> dict | None:
    """The live row with this key, as a feed record (None when there is none)."""
    return next(iter(snapshot.LIVE[record_type](tenant, [natural_key(record_type, key)])), None)


def record_write(
    *,
    tenant: Tenant,
    record_type: str,
    mode: Mode,
    fields: dict,
    key: dict | None = None,
    directory: Path | None = None,
) -> Written:
    """Validate, decide and write one record; raise RecordRejected, RecordNotFound or RecordConflict instead."""
    live = record_get(tenant, record_type, key) if key else None
    if live is None and mode in (Mode.REPLACE, Mode.MERGE, Mode.DELETE):
        raise RecordNotFound(f"No {LABELS.get(record_type, record_type)} {natural_key(record_type, key)!r}.")
    record = _compose(record_type, mode, key or {}, fields, live)
    staged = _checked(tenant, record, directory)
    try:
        staged_decide(tenant, staged)
    except RecordRejected as exc:
        if any(p.field in (key or {}) for p in exc.problems):
            raise RecordNotFound("; ".join(p.problem for p in exc.problems)) from exc
        raise
    if mode == Mode.CREATE and staged.action != Action.NEW:
        label = LABELS.get(record_type, record_type)
        raise RecordConflict(f"The {label} {staged.key!r} exists: PUT or PATCH it, or DELETE it first.")
    if staged.action in StagedRecord.WRITES:
        staged_apply(tenant, staged, directory)
    if staged.action == Action.DELETED:
        return Written(staged.action, [], None, None)
    stored_key = {name: staged.payload[name] for name in key_fields(record_type)}
    return Written(staged.action, staged.changes, record_get(tenant, record_type, stored_key),
                   _version(tenant, record_type, staged.key))  # fmt: skip


def _compose(record_type: str, mode: Mode, key: dict, fields: dict, live: dict | None) -> dict:
    """The record to check: the given fields over the live record (PATCH) or over a new row's defaults (PUT)."""
    problems = []
    if fields.get("type", record_type) != record_type:
        problems.append(Problem("type", f"this endpoint writes {record_type} records, not {fields['type']!r}"))
    for name, value in key.items():
        if name in fields and fields[name] != value:
            problems.append(Problem(name, f"the URL names {value!r}: a key cannot be changed"))
    if "deleted" in fields:
        problems.append(Problem("deleted", "send DELETE to delete"))
    if problems:
        raise RecordRejected(problems)
    if mode == Mode.DELETE:
        return {"type": record_type, "deleted": True, **key}
    base = {}
    if mode == Mode.MERGE:
        base = dict(live)
        if "file" in fields:  # a new file brings its own text and, by its suffix, its format
            base.pop("body", None)
            base.pop("format", None)
    elif mode == Mode.REPLACE:
        base = _replace_defaults(record_type, fields)
    return {**base, **fields, **key, "type": record_type}


def _replace_defaults(record_type: str, fields: dict) -> dict:
    defaults = dict(REPLACE_DEFAULTS.get(record_type, {}))
    if record_type == "document" and "file" not in fields:
        defaults["format"] = "markdown"
    if record_type == "review" and "author" in fields:
        defaults["title"] = f"Review by {fields['author']}"[:300]
    return defaults


def _checked(tenant: Tenant, record: dict, directory: Path | None) -> StagedRecord:
    """Check the record as staging checks a feed line; return it as an (unsaved) staged record."""
    problems = validate_record(record)
    if not problems and "file" in record and directory is None:
        problems = [Problem("file", "send the file itself: a multipart/form-data upload with the file in `file`")]
    if not problems:
        record, problems = record_prepare(record, tenant.slug, directory or Path())
    if problems:
        raise RecordRejected(problems)
    record_type = record["type"]
    return StagedRecord(record_type=record_type, key=natural_key(record_type, record), payload=record)


def staged_decide(tenant: Tenant, staged: StagedRecord) -> None:
    """Decide one checked record (its references, its contract, new or changed); raise RecordRejected."""
    decide_one(tenant, staged)
    if staged.action == Action.REJECTED:
        raise RecordRejected([Problem(p["field"], p["problem"]) for p in staged.problems])


def staged_apply(tenant: Tenant, staged: StagedRecord, directory: Path | None = None) -> None:
    """Write through the importer's writer: one transaction, indexing scheduled on commit as an import batch does."""
    ctx = Context(tenant, directory)
    try:
        with transaction.atomic(), index_schedule_batched():
            WRITERS[staged.record_type](ctx, staged.payload, staged.action == Action.DELETED)
    except ValidationError as exc:
        raise RecordRejected(_problems_of(exc, staged.record_type)) from exc
    except ProtectedError as exc:
        raise RecordConflict("other rows still refer to it") from exc
    except (IntegrityError, ObjectDoesNotExist) as exc:
        raise RecordConflict("a row it names changed at the same time; send the request again") from exc
    except (DataError, TypeError, ValueError) as exc:
        raise RecordRejected([Problem("", f"{type(exc).__name__}: {exc}"[:300])]) from exc


def _problems_of(exc: ValidationError, record_type: str) -> list[Problem]:
    """A model's validation errors as problems named by the record's fields (a Q&A's body is its answer)."""
    if not hasattr(exc, "error_dict"):
        return [Problem("", message) for message in exc.messages]
    names = {**MODEL_FIELDS, "body": "answer"} if record_type == "qa" else MODEL_FIELDS
    return [Problem(names.get(f, f), m) for f, messages in exc.message_dict.items() for m in messages]


def _version(tenant: Tenant, record_type: str, key: str) -> int | None:
    if record_type == "product":
        return Product.objects.filter(tenant=tenant, handle=key).values_list("version", flat=True).first()
    if record_type == "sku":
        return SKU.objects.filter(tenant=tenant, code=key).values_list("version", flat=True).first()
    if record_type == "policy":
        rows = Policy.objects.filter(tenant=tenant, slug=key)
        return rows.values_list("current_version__number", flat=True).first()
    if record_type in ("document", "review", "qa"):
        return Document.objects.filter(tenant=tenant, slug=key).values_list("version", flat=True).first()
    return None
