"""The ranking weights in force for a tenant: what the fusion and the feature re-ranker read, and what a
ranking profile stores (one column per weight)."""

import dataclasses
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Ranking:
    """The ranking weights in force for a tenant (version 0: the settings' defaults)."""

    version: int
    rrf_k: int
    keyword_weight: float
    vector_weight: float
    fuzzy_weight: float
    relevance_weight: float
    margin_weight: float
    stock_weight: float
    conversion_weight: float
    freshness_weight: float

    @classmethod
    def from_settings(cls) -> "Ranking":
        return cls(version=0, **settings.SEARCH_RANKING)


WEIGHT_FIELDS = tuple(f.name for f in dataclasses.fields(Ranking) if f.name != "version")  # the profile's weights
