"""The trained relevance model (a cross-encoder): scoring, training, calibration and export."""

from knowledge.relevance.scoring import MAX_CANDIDATES, MAX_TOKENS, RelevanceScorer, active_scorer

__all__ = ["MAX_CANDIDATES", "MAX_TOKENS", "RelevanceScorer", "active_scorer"]
