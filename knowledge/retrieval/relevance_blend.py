"""The `fused+relevance` system of evaluate_retrieval: the fused top candidates re-scored by a relevance model.

Each query's top RELEVANCE_DEPTH fused documents get a blended score, (1 - w) * fused + w * relevance, where
the fused part falls linearly with the fused rank and the relevance part is the model's probability. The
weight w is tuned on queries of qrels/train.tsv (those the model never trained on, by its split) and the
system is reported on the test queries, beside `fused`, in the same run.
"""

import json
import random
from collections import defaultdict
from pathlib import Path

from tqdm import tqdm

from knowledge.relevance.datasets import BEIR_PASSAGE_CHARS
from knowledge.relevance.scoring import MAX_CANDIDATES, RelevanceScorer
from knowledge.retrieval import metrics

RELEVANCE_DEPTH = 2 * MAX_CANDIDATES  # fused documents re-scored per query (two scorer calls)
TUNE_QUERIES = 200  # train queries the weight is tuned on: enough to choose among 11 weights
WEIGHTS = tuple(w / 10 for w in range(11))
SYSTEM = "fused+relevance"


def train_queries(path: Path, model_split: dict, seed: int = 0) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Up to TUNE_QUERIES queries of qrels/train.tsv with their qrels, none the model trained on."""
    qrels_file, queries_file = path / "qrels" / "train.tsv", path / "queries_all.jsonl"
    if not qrels_file.is_file() or not queries_file.is_file():
        return {}, {}
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(qrels_file, encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            qid, doc_id, score = line.rstrip("\n").split("\t")[:3]
            qrels[qid][doc_id] = int(score)
    seen = set(model_split.get(path.name, {}).get("train", ()))
    with open(queries_file, encoding="utf-8") as lines:
        texts = {str(row["_id"]): row["text"] for row in map(json.loads, lines)}
    usable = sorted(q for q in qrels if q in texts and q not in seen)
    chosen = random.Random(seed).sample(usable, min(TUNE_QUERIES, len(usable)))
    return {q: texts[q] for q in chosen}, {q: qrels[q] for q in chosen}


def relevance_scores(scorer: RelevanceScorer, queries: dict, fused: dict, passages: dict, desc: str) -> dict:
    """query -> {doc: probability} over each query's top RELEVANCE_DEPTH fused documents."""
    out = {}
    for qid in tqdm(list(queries), desc=desc, unit="query"):
        docs = fused[qid][:RELEVANCE_DEPTH]
        scores = []
        for start in range(0, len(docs), MAX_CANDIDATES):
            batch = docs[start : start + MAX_CANDIDATES]
            scores += scorer.score(queries[qid], [passages[d] for d in batch])
        out[qid] = dict(zip(docs, scores, strict=True))
    return out


def blend(fused: dict, relevance: dict, weight: float) -> dict[str, list[str]]:
    """Re-order each query's top fused documents by the blended score; the rest keep their fused order."""
    ranked = {}
    for qid, probabilities in relevance.items():
        docs = fused[qid]
        head = docs[:RELEVANCE_DEPTH]
        score = {d: (1 - weight) * (1 - rank / len(head)) + weight * probabilities[d] for rank, d in enumerate(head)}
        ranked[qid] = sorted(head, key=lambda d: -score[d]) + docs[RELEVANCE_DEPTH:]
    return ranked


def tune_weight(fused: dict, relevance: dict, qrels: dict) -> tuple[float, dict[float, float]]:
    """The weight with the best nDCG@10 on the tuning queries (ties: the smaller weight) and every weight's."""
    figures = {w: metrics.evaluate(blend(fused, relevance, w), qrels)["ndcg@10"] for w in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (round(figures[w], 6), -w))
    return best, figures


def passage_texts(corpus: dict[str, tuple[str, str]]) -> dict[str, str]:
    """A document as the model read SciFact abstracts in training: title, then text."""
    return {doc: f"{title}. {text}".strip(". ")[:BEIR_PASSAGE_CHARS] for doc, (title, text) in corpus.items()}
