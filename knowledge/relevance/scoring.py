"""Score (question, passage) pairs with the active relevance model: its int8 ONNX export on ONNX Runtime.

The answer path asks `active_scorer()` on every request, so the active row is cached per process for
ACTIVE_TTL_S (activation clears this process's copy at once; other processes follow within the TTL), and
each version's session and tokenizer load once, on the first `score`.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge.models import RelevanceModel
from knowledge.relevance.files import ONNX_FILE, REQUIRED_FILES, resolve_path

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 12  # one padded batch: what the answer path re-scores per question
MAX_TOKENS = 128  # the length the model was trained at; product passages are shorter
QUESTION_MAX_TOKENS = 64  # a longer question is truncated too, so the passage keeps at least half the pairs' room
ACTIVE_TTL_S = 5.0
_lock = threading.Lock()
_active: tuple[float, "RelevanceScorer | None"] = (0.0, None)
_missing_logged: set[str] = set()


@dataclass(frozen=True)
class RelevanceScorer:
    """A trained cross-encoder: the probability that a passage answers a question."""

    version: str  # "pqa@v1"
    threshold: float
    locales: tuple[str, ...]
    path: str = ""

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        """Probability (0..1) that each passage answers the question; at most MAX_CANDIDATES passages,
        each pair truncated to MAX_TOKENS; int8 ONNX Runtime, loaded lazily once per model version."""
        if len(passages) > MAX_CANDIDATES:
            raise ValueError(f"at most {MAX_CANDIDATES} passages per call, got {len(passages)}")
        if not passages:
            return []
        return _session(self.path).score(question, list(passages))


class _OnnxRelevance:
    """One ONNX Runtime session (one intra-op thread) and the folder's fast tokenizer."""

    def __init__(self, path: Path):
        import onnxruntime
        from transformers import AutoTokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # one core per request; threads serve more
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(path / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = AutoTokenizer.from_pretrained(str(path), use_fast=True, local_files_only=True)

    def score(self, question: str, passages: list[str]) -> list[float]:
        features = encode_pairs(self._tokenizer, [question] * len(passages), passages)
        logits = self._session.run(None, {name: features[name] for name in self._inputs})[0]
        return [float(p) for p in sigmoid(np.asarray(logits, dtype=np.float64).reshape(-1))]


def encode_pairs(tokenizer, questions: list[str], passages: list[str], tensors: str = "np") -> dict:
    """Tokenize pairs as the model was trained: the passage truncated first, padded to the longest pair."""
    questions = [_short_question(tokenizer, q) for q in questions]
    return dict(
        tokenizer(
            questions,
            passages,
            truncation="only_second",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors=tensors,
        )
    )


def _short_question(tokenizer, question: str) -> str:
    ids = tokenizer(question, add_special_tokens=False, truncation=False)["input_ids"]
    if len(ids) <= QUESTION_MAX_TOKENS:
        return question
    return tokenizer.decode(ids[:QUESTION_MAX_TOKENS])


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


@lru_cache(maxsize=2)
def _load(path: str) -> _OnnxRelevance:
    return _OnnxRelevance(Path(path))


def _session(path: str) -> _OnnxRelevance:
    with _lock:
        return _load(path)


def scorer_for(model: RelevanceModel) -> RelevanceScorer | None:
    """The scorer over `model`'s folder, or None when its files are missing (logged once per version)."""
    path = resolve_path(model.path)
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        if model.label not in _missing_logged:
            _missing_logged.add(model.label)
            logger.warning("relevance model %s: %s missing under %s; not scoring", model.label, missing, path)
        return None
    return RelevanceScorer(
        version=model.label, threshold=float(model.threshold), locales=tuple(model.locales or ()), path=str(path)
    )


def active_scorer() -> RelevanceScorer | None:
    """The active model's scorer, or None when no model is active (or its files are missing: logged once)."""
    global _active
    expires, scorer = _active
    now = time.monotonic()
    if now < expires:
        return scorer
    model = RelevanceModel.objects.filter(is_active=True).first()
    scorer = scorer_for(model) if model is not None else None
    _active = (now + ACTIVE_TTL_S, scorer)
    return scorer


def forget_active() -> None:
    """Read the active model again on the next call (after an activation or a rollback)."""
    global _active
    _active = (0.0, None)
