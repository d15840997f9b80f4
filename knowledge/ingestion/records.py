"""Record types: natural keys, apply order, and the canonical form a valid feed record is staged in."""

import hashlib
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError

from knowledge.ingestion.formats import Problem, decimal_text, key_fields
from knowledge.services.documents import UPLOAD_MAX_BYTES, document_text_from_upload

# Parents before children: a product needs its category, a price its SKU and price list.
ORDER = (
    "category", "customer_group", "price_list", "warehouse", "product", "sku", "price", "stock", "policy",
    "document", "review", "qa",
)  # fmt: skip
KEY_SPACE = {"review": "document", "qa": "document"}  # reviews and Q&A are documents: one slug space
SUFFIX_FORMATS = {".pdf": "pdf", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}
MONEY_PLACES, RATE_PLACES = 2, 4
NOT_COMPARED = ("type", "tenant", "deleted", "file")


def natural_key(record_type: str, record: dict) -> str:
    """A category's key is its slug (the last part of its path); other keys join their key fields."""
    if record_type == "category":
        return record["path"].rsplit("/", 1)[-1]
    return "|".join(str(record[name]) for name in key_fields(record_type))


def key_space(record_type: str) -> str:
    return KEY_SPACE.get(record_type, record_type)


def phase(record_type: str, record: dict, deleting: bool) -> int:
    """Apply order: upserts parents first (categories by depth), then deletes children first."""
    depth = record.get("path", "").count("/")
    if deleting:
        return 200 - depth if record_type == "category" else 100 + len(ORDER) - ORDER.index(record_type)
    return depth if record_type == "category" else 20 + ORDER.index(record_type)


def compared_fields(record: dict) -> list[str]:
    return [name for name in record if name not in NOT_COMPARED]


def _places_problem(record: dict, name: str, places: int) -> Problem | None:
    if name in record and Decimal(str(record[name])).as_tuple().exponent < -places:
        return Problem(name, f"{record[name]} has more than {places} decimals")
    return None


def record_prepare(record: dict, tenant_slug: str, feed_dir: Path) -> tuple[dict, list[Problem]]:
    """Check a schema-valid record's tenant and return it in canonical form, with any problems."""
    if record.get("tenant") not in (None, tenant_slug):
        return record, [Problem("tenant", f"the record names tenant {record['tenant']!r}, not {tenant_slug!r}")]
    return canonical(record, feed_dir)


def _derived_slug(prefix: str, product: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join([product, *parts]).encode()).hexdigest()
    return f"{prefix}-{product[:90]}-{digest[:12]}"


def canonical(record: dict, feed_dir: Path) -> tuple[dict, list[Problem]]:
    """Return the record as staged (exact decimals, derived slugs, a file's text) and any problems."""
    record = {name: value for name, value in record.items() if name != "tenant"}
    record_type = record["type"]
    if record.get("deleted"):
        return {name: record[name] for name in ("type", "deleted", *key_fields(record_type))}, []
    problems = []
    for name, places in (("amount", MONEY_PLACES), ("margin_rate", RATE_PLACES), ("conversion_rate", RATE_PLACES)):
        problem = _places_problem(record, name, places)
        if problem:
            problems.append(problem)
        elif name in record:
            record[name] = decimal_text(record[name], places)
    for translation in record.get("translations", {}).values():
        translation.setdefault("description", "")
    if record_type == "customer_group" and "categories" in record:
        record["categories"] = sorted(set(record["categories"]))
    if record_type == "review" and "slug" not in record:
        record["slug"] = _derived_slug("review", record["product"], record["author"], record["body"])
    if record_type == "qa" and "slug" not in record:
        parts = (record.get("question", ""), record.get("author", ""), record["answer"])
        record["slug"] = _derived_slug("qa", record["product"], *parts)
    if record_type == "document" and "file" in record:
        problems += _read_file(record, feed_dir)
    return record, problems


def _read_file(record: dict, feed_dir: Path) -> list[Problem]:
    """Read a document's file (relative to the feed, never outside it) into its body."""
    if "body" in record:
        return [Problem("file", "give `body` or `file`, not both")]
    path = (feed_dir / record["file"]).resolve()
    if not path.is_relative_to(feed_dir.resolve()):
        return [Problem("file", f"{record['file']} is outside the feed's folder")]
    if not path.is_file():
        return [Problem("file", f"{record['file']} does not exist beside the feed")]
    if path.stat().st_size > UPLOAD_MAX_BYTES:
        return [Problem("file", f"{record['file']} is larger than {UPLOAD_MAX_BYTES // 2**20} MB")]
    record.setdefault("format", SUFFIX_FORMATS.get(path.suffix.lower(), "markdown"))
    try:
        record["body"] = document_text_from_upload(record["format"], path.read_bytes())
    except ValidationError as exc:
        return [Problem("file", f"{record['file']}: {message}") for message in exc.messages]
    return []


def file_bytes(record: dict, feed_dir: Path) -> bytes | None:
    """The bytes of a PDF document's file (stored with the document), else None."""
    if record.get("format") == "pdf" and "file" in record:
        return (feed_dir / record["file"]).read_bytes()
    return None
