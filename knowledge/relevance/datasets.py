"""Read labelled (question, passage) sets from their folders into one shape: questions grouped by a unit.

Two layouts are read. A product set (pairs.tsv beside corpus.jsonl and queries_all.jsonl, as hetPQA and
semiPQA ship) judges each question against passages of its own product; the product field is the one field
besides `_id` and `text` that corpus and queries share (`asin`, `product_group`). A BEIR set with
qrels/train.tsv (SciFact) has only positives: each train query gets a few negatives, the best BM25 abstracts
that are not labelled relevant and a random one, and is its own unit.
"""

import csv
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PRODUCT_FILES = ("pairs.tsv", "corpus.jsonl", "queries_all.jsonl")
BEIR_FILES = ("corpus.jsonl", "queries_all.jsonl", "qrels/train.tsv")
BEIR_HARD_NEGATIVES = 2  # BM25's best non-relevant abstracts: near misses teach more than random text
BEIR_RANDOM_NEGATIVES = 1
BEIR_PASSAGE_CHARS = 1_000  # past the 128 word pieces a pair keeps anyway
RESERVED = {"_id", "text", "title", "has_positive", "split", "metadata"}


class DatasetError(ValueError):
    """A dataset folder that cannot be read: the message says what to fix."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    unit: str  # the product (or, for a BEIR set, the query itself) it is asked about
    judged: dict[str, int]  # passage id -> label (0 or 1)

    @property
    def answerable(self) -> bool:
        return any(label >= 1 for label in self.judged.values())


@dataclass
class RelevanceSet:
    """One dataset folder: its questions, its passages and which passages each unit holds."""

    name: str
    path: Path
    unit: str  # "asin", "product_group" or "query"
    questions: dict[str, Question] = field(default_factory=dict)
    passages: dict[str, str] = field(default_factory=dict)
    by_unit: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def pairs(self) -> int:
        return sum(len(q.judged) for q in self.questions.values())

    @property
    def is_product_set(self) -> bool:
        return self.unit != "query"

    def units(self) -> list[str]:
        return sorted({q.unit for q in self.questions.values()})


def relevance_set_read(path: Path, seed: int = 0) -> RelevanceSet:
    """Read one folder, telling its layout by its files; a folder that is neither names what it lacks."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"--dataset {path}: not a folder")
    if (path / "pairs.tsv").is_file():
        _require(path, PRODUCT_FILES, "a product set")
        return _read_product_set(path)
    _require(path, BEIR_FILES, "a BEIR set (or a product set with pairs.tsv)")
    return _read_beir_set(path, seed)


def _require(path: Path, files: tuple[str, ...], what: str) -> None:
    missing = [name for name in files if not (path / name).is_file()]
    if missing:
        raise DatasetError(f"--dataset {path}: read as {what}, but {', '.join(missing)} missing")


def _jsonl(file: Path) -> list[dict]:
    with open(file, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _product_field(path: Path, corpus: list[dict], queries: list[dict]) -> str:
    if not corpus or not queries:
        raise DatasetError(f"--dataset {path}: corpus.jsonl or queries_all.jsonl is empty")
    shared = (set(corpus[0]) & set(queries[0])) - RESERVED
    if len(shared) != 1:
        raise DatasetError(
            f"--dataset {path}: corpus and queries must share exactly one product field besides _id/text "
            f"(found {sorted(shared) or 'none'})"
        )
    return shared.pop()


def _read_product_set(path: Path) -> RelevanceSet:
    corpus, queries = _jsonl(path / "corpus.jsonl"), _jsonl(path / "queries_all.jsonl")
    unit = _product_field(path, corpus, queries)
    data = RelevanceSet(name=path.name, path=path, unit=unit)
    for row in corpus:
        data.passages[row["_id"]] = row["text"]
        data.by_unit[str(row[unit])].append(row["_id"])
    judged = _read_pairs(path / "pairs.tsv")
    for row in queries:
        labels = judged.get(str(row["_id"]))
        if labels:
            qid = str(row["_id"])
            data.questions[qid] = Question(qid, row["text"], str(row[unit]), labels)
    unknown = {pid for q in data.questions.values() for pid in q.judged} - data.passages.keys()
    if unknown or not data.questions:
        raise DatasetError(f"--dataset {path}: pairs.tsv names passages not in corpus.jsonl or no known question")
    return data


def _read_pairs(file: Path) -> dict[str, dict[str, int]]:
    """query-id -> corpus-id -> label, from a tab-separated file with a header; repeated pairs keep the max."""
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    with open(file, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        needed = {"query-id", "corpus-id", "label"}
        if not needed <= set(reader.fieldnames or ()):
            raise DatasetError(f"{file}: the header must name query-id, corpus-id and label")
        for row in reader:
            labels = judged[row["query-id"]]
            labels[row["corpus-id"]] = max(labels.get(row["corpus-id"], 0), int(float(row["label"]) >= 1))
    return judged


def _read_beir_set(path: Path, seed: int) -> RelevanceSet:
    import bm25s

    corpus = _jsonl(path / "corpus.jsonl")
    queries = {str(row["_id"]): row["text"] for row in _jsonl(path / "queries_all.jsonl")}
    positives = _read_qrels(path / "qrels" / "train.tsv")
    ids = [str(row["_id"]) for row in corpus]
    texts = [f"{row.get('title', '')}. {row['text']}".strip(". ")[:BEIR_PASSAGE_CHARS] for row in corpus]
    data = RelevanceSet(name=path.name, path=path, unit="query", passages=dict(zip(ids, texts, strict=True)))
    asked = sorted(q for q in positives if q in queries)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    found, _ = retriever.retrieve(
        bm25s.tokenize([queries[q] for q in asked], stopwords="en", show_progress=False),
        k=BEIR_HARD_NEGATIVES + 8,
        show_progress=False,
    )
    rng = random.Random(seed)
    for qid, hits in zip(asked, found, strict=True):
        labels = {pid: 1 for pid in positives[qid] if pid in data.passages}
        hard = [ids[i] for i in hits if ids[i] not in labels][:BEIR_HARD_NEGATIVES]
        labels |= {pid: 0 for pid in hard + rng.sample(ids, BEIR_RANDOM_NEGATIVES) if pid not in labels}
        data.questions[qid] = Question(qid, queries[qid], qid, labels)
        data.by_unit[qid] = list(labels)
    return data


def _read_qrels(file: Path) -> dict[str, set[str]]:
    positives: dict[str, set[str]] = defaultdict(set)
    with open(file, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if float(row.get("score") or 0) >= 1:
                positives[row["query-id"]].add(row["corpus-id"])
    return positives
