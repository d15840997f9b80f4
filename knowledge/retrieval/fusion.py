"""Reciprocal-rank fusion: combine ranked lists by rank alone, so legs with unlike scores mix fairly."""

from collections import defaultdict
from collections.abc import Hashable, Sequence

RRF_K = 60  # Cormack et al. 2009: damps the head so one leg's first hit cannot dominate


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]], *, k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[Hashable, float]]:
    """Return (item, fused score) pairs, best first: the sum over rankings of weight / (k + rank).

    Equal scores keep the order in which items were first seen, so list the stronger ranking first.
    """
    weights = weights if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict = defaultdict(float)
    first_seen: dict = {}
    for weight, ranking in zip(weights, rankings, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] += weight / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    return sorted(scores.items(), key=lambda pair: (-pair[1], first_seen[pair[0]]))
