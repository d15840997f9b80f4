"""The search query encoder: the embedding model exported to ONNX and run by ONNX Runtime, one text at a time.

A search encodes one short query on the request's critical path. For a model as small as all-MiniLM-L6-v2
most of the SentenceTransformer's time goes to torch's per-operator overhead; ONNX Runtime runs the same
graph in a fraction of it (docs/benchmarks.md). The export (the model's own modules, pooling included, then L2
normalization) is made once per model and runtime version into QUERY_ENCODER_CACHE_DIR, under a file lock
(web processes starting together: one exports, the others wait and load its file), written to a temporary
file and renamed into place.

Before a session serves, its vectors for a few probe texts are compared with the SentenceTransformer's;
beyond QUERY_ENCODER_TOLERANCE (a model the export does not reproduce), the model's queries stay on
torch and the warning says why. The export is traced with a single unpadded text, so the session only
ever encodes one text at a time (no padding, hence no attention mask to honour); batches (indexing,
evaluation) stay on torch.
"""

import fcntl
import hashlib
import logging
import os
import threading
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge import embedding

logger = logging.getLogger(__name__)
FORMAT = 1  # bump when the exported graph changes: old files are then ignored
OPSET = 17
PROBES = (
    "warm up",
    "Bluetooth-Lautsprecher für die Reise, wasserdicht",
    "SKU-4711/B",
    "日本語のクエリ",
    " ".join(["a long question about the warranty terms for returns"] * 40),  # past the model's 256 pieces
)
_lock = threading.Lock()


def encode_query(path: str, text: str) -> np.ndarray:
    """Embed one text as a unit vector, with ONNX Runtime when the model's export serves, else torch."""
    session = _session_for(path)
    if session is None:
        return embedding.encode(path, [text])[0]
    return session.encode(text)


class OnnxQueryEncoder:
    """One ONNX Runtime session over the model's export and the SentenceTransformer's tokenizer."""

    def __init__(self, model, file: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # one core per query; threads serve more
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._model = model

    def encode(self, text: str) -> np.ndarray:
        features = self._model.preprocess([text])  # the SentenceTransformer's own preprocessing and truncation
        feed = {name: features[name].numpy() for name in self._inputs}
        return self._session.run(None, feed)[0][0]


def _session_for(path: str) -> OnnxQueryEncoder | None:
    from django.conf import settings

    if settings.QUERY_ENCODER != "onnx":
        return None
    with _lock:
        return _load(path, str(settings.QUERY_ENCODER_CACHE_DIR), settings.QUERY_ENCODER_TOLERANCE)


@lru_cache(maxsize=4)
def _load(path: str, cache_dir: str, tolerance: float) -> OnnxQueryEncoder | None:
    model = embedding.encoder(path)
    try:
        file = Path(cache_dir) / f"{export_key(path)}.onnx"
        if not file.exists():
            with _exporting(file):  # web processes starting together: one exports, the others wait for it
                if not file.exists():
                    export(model, file)
        session = OnnxQueryEncoder(model, file)
    except Exception as error:  # noqa: BLE001 - a model the exporter or runtime cannot take serves on torch
        logger.warning("query encoder: no ONNX export of %s (%s); queries stay on torch", path, error)
        return None
    expected = embedding.encode(path, list(PROBES))
    difference = max(
        float(np.abs(session.encode(text) - vector).max()) for text, vector in zip(PROBES, expected, strict=True)
    )
    if difference > tolerance:
        logger.warning(
            "query encoder: the ONNX export of %s differs from the model by %.2g (> %.2g); queries stay on torch",
            path,
            difference,
            tolerance,
        )
        return None
    return session


@contextmanager
def _exporting(file: Path):
    """Hold an exclusive lock on the export's lock file (released when the process ends, whatever happens)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file.with_name(f"{file.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def export_key(path: str) -> str:
    """A name for the model's export: its files (names, sizes, times) and the exporting runtimes' versions."""
    import onnx
    import torch

    digest = hashlib.sha256(f"{FORMAT}:{OPSET}:{torch.__version__}:{onnx.__version__}".encode())
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{root.name}-{digest.hexdigest()[:16]}"


def export(model, file: Path) -> None:
    """Write the model (its modules, then L2 normalization) to `file` as ONNX, atomically (its folder made
    by `_exporting`)."""
    import torch

    features = model.preprocess(["a query to trace"])
    names = [name for name, value in features.items() if isinstance(value, torch.Tensor)]
    constants = {name: value for name, value in features.items() if name not in names}  # e.g. the modality
    partial = file.with_name(f"{file.name}.{os.getpid()}.{threading.get_ident()}.partial")
    with warnings.catch_warnings():  # the tracer's notes on branches a single unpadded text never takes
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _normalized(model, names, constants).eval(),
            tuple(features[name] for name in names),
            str(partial),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={name: {1: "pieces"} for name in names},
            opset_version=OPSET,
            dynamo=False,
        )
    os.replace(partial, file)
    logger.info("query encoder: exported %s (%.0f MB)", file.name, file.stat().st_size / 1e6)


def _normalized(model, names: list[str], constants: dict):
    """The SentenceTransformer's forward over positional tensors, then L2 normalization (what is traced)."""
    import torch

    class Normalized(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            pooled = self.model(constants | dict(zip(names, tensors, strict=True)))["sentence_embedding"]
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Normalized()
