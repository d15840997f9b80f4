"""Score each question against all its unit's passages; calibrate the threshold; report first_relevant.

A question's "first relevant" is whether the passage ranked first among all its product's passages is
labelled 1 for it (a passage never judged for it counts as not relevant). A question is answerable when at
least one of its judged passages is labelled 1; at a threshold it is answered when its best passage scores
at or above it. The threshold is the highest that still answers TARGET_ANSWERED of the answerable
calibration questions, so it abstains on as many unanswerable ones as it can.
"""

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from knowledge.relevance.datasets import Question, RelevanceSet

TARGET_ANSWERED = 0.85
BM25_K1, BM25_B = 1.2, 0.75
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Ranked:
    """One question's scores over its unit's passages."""

    question: Question
    passage_ids: list[str]
    scores: np.ndarray

    @property
    def best(self) -> float:
        return float(self.scores.max()) if len(self.scores) else 0.0

    @property
    def first_relevant(self) -> bool:
        return bool(len(self.scores)) and self.question.judged.get(self.passage_ids[int(self.scores.argmax())], 0) >= 1


def questions_in(data: RelevanceSet, units: list[str]) -> list[Question]:
    wanted = set(units)
    return [q for q in sorted(data.questions.values(), key=lambda q: q.id) if q.unit in wanted]


def rank_questions(data: RelevanceSet, questions: list[Question], score_pairs: Callable) -> list[Ranked]:
    """Score every (question, passage of its unit) pair in one call of `score_pairs(list of pairs)`."""
    candidates = [list(data.by_unit[q.unit]) for q in questions]
    pairs = [(q.text, data.passages[pid]) for q, ids in zip(questions, candidates, strict=True) for pid in ids]
    scores = np.asarray(score_pairs(pairs), dtype=np.float64)
    ranked, start = [], 0
    for question, ids in zip(questions, candidates, strict=True):
        ranked.append(Ranked(question, ids, scores[start : start + len(ids)]))
        start += len(ids)
    return ranked


class Bm25:
    """BM25 over one dataset's passages (lower-cased alphanumeric words), scoring within a unit."""

    def __init__(self, data: RelevanceSet):
        self._terms = {pid: Counter(_WORD.findall(text.lower())) for pid, text in data.passages.items()}
        self._avgdl = sum(sum(c.values()) for c in self._terms.values()) / max(1, len(self._terms))
        df = Counter(term for counts in self._terms.values() for term in counts)
        n = len(self._terms)
        self._idf = {term: math.log(1 + (n - d + 0.5) / (d + 0.5)) for term, d in df.items()}
        self._data = data

    def rank(self, questions: list[Question]) -> list[Ranked]:
        ranked = []
        for question in questions:
            ids = list(self._data.by_unit[question.unit])
            words = set(_WORD.findall(question.text.lower()))
            ranked.append(Ranked(question, ids, np.array([self._score(words, pid) for pid in ids])))
        return ranked

    def _score(self, words: set[str], pid: str) -> float:
        counts = self._terms[pid]
        norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(counts.values()) / max(self._avgdl, 1e-9))
        return sum(self._idf[w] * counts[w] * (BM25_K1 + 1) / (counts[w] + norm) for w in words if counts.get(w))


def first_relevant(ranked: list[Ranked]) -> float | None:
    """The share of answerable questions whose top passage is labelled relevant (None without any)."""
    answerable = [r for r in ranked if r.question.answerable]
    return sum(r.first_relevant for r in answerable) / len(answerable) if answerable else None


def answer_rates(ranked: list[Ranked], threshold: float) -> tuple[float | None, float | None]:
    """(share of answerable questions answered, share of unanswerable ones abstained on) at `threshold`."""
    answerable = [r.best for r in ranked if r.question.answerable]
    unanswerable = [r.best for r in ranked if not r.question.answerable]
    answered = sum(s >= threshold for s in answerable) / len(answerable) if answerable else None
    abstained = sum(s < threshold for s in unanswerable) / len(unanswerable) if unanswerable else None
    return answered, abstained


def calibrate_threshold(answerable_scores: list[float], target: float = TARGET_ANSWERED) -> float:
    """The highest threshold at which at least `target` of the answerable scores are at or above it."""
    if not answerable_scores:
        return 0.5
    ordered = sorted(answerable_scores, reverse=True)
    return float(ordered[max(0, math.ceil(target * len(ordered)) - 1)])
