"""Re-rankers: pipeline steps that reorder fused candidates. Each has a name and a version to record.

- `CrossEncoderReranker` re-scores the top candidates with a sentence-transformers `CrossEncoder`
  read from a local directory (`RERANKER_MODEL`); it is in the pipeline only when that is set.
- `FeatureReranker` blends relevance with commercial features (margin, stock, conversion, freshness)
  by the weights of the tenant's ranking profile, whose version it reports.
"""

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from django.conf import settings

from knowledge.embedding import cross_encoder
from knowledge.ranking import Ranking

FEATURES = ("margin", "stock", "conversion", "freshness")
FRESHNESS_HALF_LIFE_DAYS = 90.0  # a product edited a quarter ago counts half as fresh as one edited today


@dataclass(frozen=True)
class Candidate:
    """One fused candidate. `features` hold values in [0, 1]; a missing feature is neutral (the pool mean)."""

    id: Hashable
    score: float
    features: Mapping[str, float] = field(default_factory=dict)


class Reranker(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def run(self, query: str, candidates: Sequence[Candidate]) -> list[Candidate]:
        """Return the candidates reordered, best first, with their new scores."""


class FeatureReranker:
    name = "feature"

    def __init__(self, ranking: Ranking):
        self.ranking = ranking

    @property
    def version(self) -> str:
        return f"v{self.ranking.version}"

    def run(self, query: str, candidates: Sequence[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        relevance = _min_max([c.score for c in candidates])
        means = _feature_means(candidates)
        weights = {name: getattr(self.ranking, f"{name}_weight") for name in FEATURES}
        blended = []
        for order, (candidate, rel) in enumerate(zip(candidates, relevance, strict=True)):
            score = self.ranking.relevance_weight * rel
            for name in FEATURES:
                score += weights[name] * candidate.features.get(name, means[name])
            blended.append((score, order, replace(candidate, score=score)))
        blended.sort(key=lambda item: (-item[0], item[1]))  # ties keep the incoming order
        return [item[2] for item in blended]


class CrossEncoderReranker:
    """Re-score the first `depth` candidates by a cross-encoder over (query, text); the rest follow."""

    name = "cross_encoder"

    def __init__(self, model_path: str, texts: Callable[[list], Mapping], depth: int | None = None):
        self.model_path, self.texts, self.depth = model_path, texts, depth or settings.RERANKER_DEPTH

    @property
    def version(self) -> str:
        return Path(self.model_path).name or self.model_path

    def run(self, query: str, candidates: Sequence[Candidate]) -> list[Candidate]:
        head, tail = list(candidates[: self.depth]), list(candidates[self.depth :])
        if not head or not query.strip():
            return list(candidates)
        texts = self.texts([c.id for c in head])
        scores = cross_encoder(self.model_path).predict(
            [(query, texts.get(c.id, "")) for c in head], show_progress_bar=False
        )
        rescored = sorted(
            ((float(s), i, c) for i, (s, c) in enumerate(zip(scores, head, strict=True))), key=lambda t: (-t[0], t[1])
        )
        floor = rescored[-1][0] if rescored else 0.0
        out = [replace(c, score=s) for s, _, c in rescored]
        out += [replace(c, score=floor - 1.0 - i * 1e-6) for i, c in enumerate(tail)]
        return out


def rerankers_for(ranking: Ranking, texts: Callable[[list], Mapping]) -> list[Reranker]:
    """Return the re-ranking steps in order: the cross-encoder when configured, then the feature blend."""
    steps: list[Reranker] = []
    if settings.RERANKER_MODEL:
        steps.append(CrossEncoderReranker(settings.RERANKER_MODEL, texts))
    steps.append(FeatureReranker(ranking))
    return steps


def freshness(age_days: float) -> float:
    return math.exp(-math.log(2) * max(0.0, age_days) / FRESHNESS_HALF_LIFE_DAYS)


def _min_max(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return [1.0] * len(values)
    return [(v - low) / (high - low) for v in values]


def _feature_means(candidates: Sequence[Candidate]) -> dict[str, float]:
    means = {}
    for name in FEATURES:
        present = [c.features[name] for c in candidates if name in c.features]
        means[name] = sum(present) / len(present) if present else 0.0
    return means
