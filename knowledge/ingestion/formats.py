"""Read a feed (JSON Lines or CSV files) line by line and validate each record against the published schema.

Nothing here touches the database: `feed_lines` yields one `FeedLine` per record line, holding the parsed
record or the problems (field and message) that reject it.
"""

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).parent / "schema" / "feed.schema.json"
MAX_LINE_BYTES = 4 * 2**20  # a longer line is refused unread: long documents go in a file beside the feed
FEED_SUFFIXES = (".jsonl", ".csv")
CSV_PLURALS = {"category": "categories", "policy": "policies", "stock": "stock"}  # file names: products.csv ...


@dataclass(frozen=True)
class Problem:
    field: str
    problem: str


@dataclass
class FeedLine:
    source: str  # the file's name relative to the feed
    line: int
    record: dict | None
    problems: list[Problem] = field(default_factory=list)
    size: int = 0  # bytes read, for the progress bar


@cache
def feed_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator(record_type: str) -> Draft202012Validator:
    schema = feed_schema()
    return Draft202012Validator({**schema["$defs"][record_type], "$defs": schema["$defs"]})


def record_types() -> list[str]:
    return list(feed_schema()["$defs"])


def key_fields(record_type: str) -> list[str]:
    return feed_schema()["$defs"][record_type]["x-key"]


def validate_record(record) -> list[Problem]:
    """Return what is wrong with one record (empty when it is valid)."""
    if not isinstance(record, dict):
        return [Problem("", f"a record is a JSON object, not {type(record).__name__}")]
    record_type = record.get("type")
    if record_type not in record_types():
        return [Problem("type", f"unknown record type {record_type!r} (one of {', '.join(record_types())})")]
    problems = []
    for error in sorted(_validator(record_type).iter_errors(record), key=lambda e: list(e.absolute_path)):
        problems.append(Problem(_field_of(error), _message_of(error)[:300]))
    return problems


def _message_of(error) -> str:
    """The validator's message; a pattern's regex is replaced by the field's description when it has one."""
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "pattern" and description:
        return f"{error.instance!r} does not match the expected form: {description}"
    return error.message


def _field_of(error) -> str:
    """Name the field an error is about: its path, or the missing or unexpected property."""
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        named = next((name for name in missing if error.message.startswith(repr(name))), None)
        return ".".join(filter(None, [path, named or (missing[0] if missing else "")]))
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        return ".".join(filter(None, [path, extra[0] if extra else ""]))
    return path


def feed_files(path: Path) -> list[tuple[Path, str]]:
    """Return the feed's files with their names: the file itself, or a folder's .jsonl and .csv files."""
    if path.is_dir():
        return [(p, p.name) for p in sorted(path.iterdir()) if p.is_file() and p.suffix in FEED_SUFFIXES]
    return [(path, path.name)]


def content_hash(files: list[tuple[Path, str]]) -> str:
    digest = hashlib.sha256()
    for path, name in files:
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    return digest.hexdigest()


def _physical_lines(handle) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield (number, bytes, size); bytes is None for a line over MAX_LINE_BYTES, skipped without holding it."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while True:
                rest = handle.readline(2**20)
                size += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None, size
            continue
        yield number, raw, len(raw)


def _decode(raw: bytes, number: int) -> tuple[str | None, Problem | None]:
    """Decode a line as UTF-8; a byte order mark opening the file (as spreadsheets write) is dropped."""
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, Problem("", f"not valid UTF-8 (bad byte at column {exc.start + 1})")


TOO_LONG = Problem("", f"the line is longer than {MAX_LINE_BYTES // 2**20} MiB; it was not read")


def jsonl_lines(path: Path, name: str, start_after: int = 0) -> Iterator[FeedLine]:
    with open(path, "rb") as handle:
        for number, raw, size in _physical_lines(handle):
            if number <= start_after:
                continue
            if raw is None:
                yield FeedLine(name, number, None, [TOO_LONG], size)
                continue
            text, problem = _decode(raw, number)
            if problem is None and not text.strip():
                continue  # blank lines are allowed
            if problem is None:
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    problem = Problem("", f"malformed JSON: {exc.msg} (column {exc.colno})")
            if problem is not None:
                yield FeedLine(name, number, None, [problem], size)
                continue
            yield FeedLine(name, number, record, validate_record(record), size)


def csv_type(name: str) -> str | None:
    """The record type a CSV file's name states (products.csv, stock.csv, customer_groups.csv), if any."""
    stem = Path(name).stem.lower().replace("-", "_")
    for record_type in record_types():
        if stem in (record_type, CSV_PLURALS.get(record_type, record_type + "s")):
            return record_type
    return None


def _csv_text(handle, bad: dict[int, Problem], sizes: dict[int, int]) -> Iterator[str]:
    """Feed csv.reader decoded lines; a too-long or undecodable line becomes empty and is noted in `bad`."""
    for number, raw, size in _physical_lines(handle):
        sizes[number] = size
        text, problem = (None, TOO_LONG) if raw is None else _decode(raw, number)
        if problem is not None:
            bad[number] = problem
            yield "\n"
        else:
            yield text


def csv_lines(path: Path, name: str, start_after: int = 0) -> Iterator[FeedLine]:
    """Yield a FeedLine per data row: the type from a `type` column or the file name, cells coerced by schema."""
    bad: dict[int, Problem] = {}
    sizes: dict[int, int] = {}
    with open(path, "rb") as handle:
        reader = csv.reader(_csv_text(handle, bad, sizes))
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        default_type = csv_type(name)
        header_problems = _header_problems(header, default_type)
        if header_problems and start_after == 0:
            yield FeedLine(name, 1, None, header_problems, sizes.get(1, 0))
        first = reader.line_num + 1
        for row in reader:
            number = first
            first = reader.line_num + 1
            size = sum(sizes.pop(n, 0) for n in range(number, first))
            if number <= start_after:
                continue
            if number in bad:
                yield FeedLine(name, number, None, [bad.pop(number)], size)
            elif any(cell.strip() for cell in row):
                yield _csv_record(name, number, header, row, default_type, size)


def _header_problems(header: list[str], default_type: str | None) -> list[Problem]:
    if "type" not in header and default_type is None:
        return [Problem("type", "no `type` column and the file name names no record type (e.g. products.csv)")]
    if default_type is None or "deleted" in header:  # tombstones need only their key: rows are checked one by one
        return []
    schema = feed_schema()["$defs"][default_type]
    missing = [name for name in schema["else"]["required"] if name not in header]
    return [Problem(name, f"the {default_type} file has no `{name}` column") for name in missing]


def _csv_record(name: str, number: int, header: list[str], row: list[str], default_type, size: int) -> FeedLine:
    if len(row) != len(header):
        return FeedLine(name, number, None, [Problem("", f"{len(row)} cells for {len(header)} columns")], size)
    cells = {column: cell for column, cell in zip(header, row, strict=True) if cell != ""}
    record_type = cells.get("type", default_type)
    if record_type not in record_types():
        return FeedLine(name, number, None, [Problem("type", f"unknown record type {record_type!r}")], size)
    record, problems = coerce_cells(record_type, cells)
    return FeedLine(name, number, record, problems or validate_record(record), size)


def coerce_cells(record_type: str, cells: dict[str, str]) -> tuple[dict, list[Problem]]:
    """Build a record from text cells (a CSV row, form fields), each coerced to the type the schema gives it."""
    record, problems = {"type": record_type}, []
    properties = feed_schema()["$defs"][record_type]["properties"]
    for column, cell in cells.items():
        if column == "type":
            continue
        try:
            record[column] = _coerce(cell, properties.get(column, {}))
        except ValueError as exc:
            problems.append(Problem(column, str(exc)))
    return record, problems


def _coerce(cell: str, schema: dict):
    """Turn a CSV cell into the JSON value the schema expects (objects and lists as JSON text)."""
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else types
    if "string" in types:
        return cell
    if "object" in types or "array" in types:
        try:
            return json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg}") from exc
    if "boolean" in types:
        lowered = cell.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{cell!r} is not a boolean (true or false)")
        return lowered in ("true", "1", "yes")
    if "integer" in types:
        try:
            return int(cell)
        except ValueError:
            raise ValueError(f"{cell!r} is not an integer") from None
    return cell


def feed_lines(path: Path, staged_through: dict[str, int] | None = None) -> Iterator[FeedLine]:
    """Yield every record line of the feed, skipping lines up to each file's `staged_through` line."""
    staged_through = staged_through or {}
    for file_path, name in feed_files(path):
        reader = csv_lines if file_path.suffix == ".csv" else jsonl_lines
        yield from reader(file_path, name, staged_through.get(name, 0))


def decimal_text(value, places: int) -> str:
    """Write a number or numeric string with exactly `places` decimals ("19.9" -> "19.90")."""
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))
