"""Read a product question-answering set: BEIR files plus the field naming each row's product.

The layout: `corpus.jsonl` (`_id`, `text`, the product field, optionally `source`), `queries_all.jsonl`
(`_id`, `text`, the product field, `has_positive`), `qrels/*.tsv` (`query-id`, `corpus-id`, `score`, with a
header) and optionally `pairs.tsv` (the source's rows, with `query-id`, `corpus-id` and `label` columns). A
question's judgments are merged from all of them, keeping the higher label.
"""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_FILES = ("corpus.jsonl", "queries_all.jsonl", "qrels/test.tsv")
NOT_PRODUCT_FIELDS = {"_id", "title", "text", "source", "has_positive", "split", "answer", "answers"}


class EvaluationInputError(Exception):
    """The set cannot be read as given; the message says what to fix."""


@dataclass(frozen=True)
class Snippet:
    id: str
    text: str
    product: str
    source: str  # the set's source label (hetPQA: review, CQA, attribute, bullet, Desc, OSP); "" when none


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    product: str
    answerable: bool  # has_positive: at least one snippet is labelled relevant
    answers: tuple[str, ...] = ()  # written answers, where the set has them


@dataclass
class PqaSet:
    name: str  # the folder's name: the key of a relevance model's split
    product_field: str
    snippets: dict[str, Snippet]
    questions: list[Question]
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # question id -> snippet id -> label

    def relevant(self, question_id: str, snippet_id: str | None) -> bool:
        return snippet_id is not None and self.labels.get(question_id, {}).get(snippet_id, 0) >= 1

    def judged(self, question_id: str, snippet_id: str | None) -> bool:
        return snippet_id is not None and snippet_id in self.labels.get(question_id, {})


def _rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise EvaluationInputError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
    if not rows:
        raise EvaluationInputError(f"{path} holds no rows")
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not {"_id", "text"} <= set(row):
            raise EvaluationInputError(f"{path}, row {number}: every row needs an _id and a text")
    return rows


def detect_product_field(corpus: list[dict], queries: list[dict]) -> str:
    """Return the one field besides ids and texts that both snippets and questions carry."""
    shared = (set(corpus[0]) & set(queries[0])) - NOT_PRODUCT_FIELDS
    if len(shared) != 1:
        found = ", ".join(sorted(shared)) or "none"
        raise EvaluationInputError(
            f"cannot tell the product field (fields both corpus.jsonl and queries_all.jsonl carry: {found}): "
            "name it with --product-field"
        )
    return shared.pop()


def _check_field(name: str, rows: list[dict], where: str) -> None:
    missing = next((row for row in rows if not str(row.get(name) or "").strip()), None)
    if missing is not None:
        fields = ", ".join(sorted(missing)) or "none"
        raise EvaluationInputError(
            f"unknown product field {name!r}: a row of {where} ({missing.get('_id')!r}) has no {name!r} "
            f"(its fields: {fields})"
        )


def _read_labels(path: Path) -> dict[str, dict[str, int]]:
    """Merge every qrels file and pairs.tsv: question -> snippet -> the highest label given."""
    labels: dict[str, dict[str, int]] = {}
    files = sorted((path / "qrels").glob("*.tsv")) + ([path / "pairs.tsv"] if (path / "pairs.tsv").is_file() else [])
    for name in files:
        with open(name, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            column = "score" if "score" in (reader.fieldnames or ()) else "label"
            if not {"query-id", "corpus-id", column} <= set(reader.fieldnames or ()):
                raise EvaluationInputError(f"{name}: expected a header with query-id, corpus-id and score (or label)")
            for row in reader:
                try:
                    label = int(row[column])
                except (TypeError, ValueError):
                    raise EvaluationInputError(
                        f"{name}, line {reader.line_num}: {column} {row[column]!r} is not a whole number"
                    ) from None
                judged = labels.setdefault(row["query-id"], {})
                judged[row["corpus-id"]] = max(judged.get(row["corpus-id"], 0), label)
    return labels


def _answers(row: dict) -> tuple[str, ...]:
    written = row.get("answers", row.get("answer")) or ()
    return (written,) if isinstance(written, str) else tuple(str(a) for a in written)


def pqa_read(path: Path, product_field: str | None = None) -> PqaSet:
    """Read the set at `path`; raise EvaluationInputError naming a missing file or an unusable product field."""
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise EvaluationInputError(f"{path} lacks {', '.join(missing)} (a product QA set in the BEIR layout)")
    corpus, queries = _rows(path / "corpus.jsonl"), _rows(path / "queries_all.jsonl")
    product_field = product_field or detect_product_field(corpus, queries)
    _check_field(product_field, corpus, "corpus.jsonl")
    _check_field(product_field, queries, "queries_all.jsonl")
    labels = _read_labels(path)
    snippets = {
        str(row["_id"]): Snippet(str(row["_id"]), row.get("text") or "", str(row[product_field]), row.get("source", ""))
        for row in corpus
    }
    questions = []
    for row in queries:
        qid = str(row["_id"])
        positive = row.get("has_positive")
        answerable = bool(positive) if positive is not None else any(v >= 1 for v in labels.get(qid, {}).values())
        questions.append(Question(qid, row["text"], str(row[product_field]), answerable, _answers(row)))
    return PqaSet(path.name, product_field, snippets, questions, labels)
