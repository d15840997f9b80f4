"""Export a trained cross-encoder to ONNX and quantize it to int8, then check the int8 scores against torch."""

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.relevance.files import ONNX_FILE
from knowledge.relevance.scoring import encode_pairs, sigmoid

OPSET = 17
FLOAT_FILE = "model.onnx"  # the float export, kept only until it is quantized
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CHECK_BATCH = 32
MIN_RANK_CORRELATION = 0.98  # below it the int8 model orders pairs differently from the trained one
MAX_ABS_DIFFERENCE = 0.1  # probabilities further apart than this move answers across the threshold


@dataclass(frozen=True)
class ExportCheck:
    """How far the int8 model's probabilities are from torch's on the same pairs."""

    pairs: int
    rank_correlation: float
    max_abs_difference: float

    @property
    def ok(self) -> bool:
        return self.rank_correlation >= MIN_RANK_CORRELATION and self.max_abs_difference <= MAX_ABS_DIFFERENCE


def export_int8(model, tokenizer, folder: Path) -> Path:
    """Write folder/model-int8.onnx (opset 17, dynamic batch and sequence) from the torch classifier."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = model.eval()
    sample = encode_pairs(tokenizer, ["a question to trace"] * 2, ["a passage", "a longer passage to trace"], "pt")
    names = [name for name in INPUTS if name in sample]
    float_file = folder / FLOAT_FILE
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants
        torch.onnx.export(
            _Logits(model),
            tuple(sample[name] for name in names),
            str(float_file),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**{name: {0: "batch", 1: "sequence"} for name in names}, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    target = folder / ONNX_FILE
    with _quiet_root_logger():  # the quantizer notes every tensor it leaves alone on the root logger
        quantize_dynamic(str(float_file), str(target), weight_type=QuantType.QInt8)
    os.remove(float_file)
    return target


@contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)


class _Logits:
    """The classifier's forward over positional tensors, returning its one logit per pair."""

    def __new__(cls, model):
        import torch

        class Logits(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, *tensors):
                names = INPUTS[: len(tensors)]
                return self.model(**dict(zip(names, tensors, strict=True))).logits

        return Logits()


def torch_probabilities(model, tokenizer, pairs: list[tuple[str, str]], batch: int = CHECK_BATCH) -> np.ndarray:
    """The torch model's probabilities for pairs, in batches."""
    import torch

    model = model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch):
            chunk = pairs[start : start + batch]
            features = encode_pairs(tokenizer, [q for q, _ in chunk], [p for _, p in chunk], "pt")
            out.append(torch.sigmoid(model(**features).logits.reshape(-1)).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def onnx_probabilities(file: Path, tokenizer, pairs: list[tuple[str, str]], batch: int = CHECK_BATCH) -> np.ndarray:
    """The ONNX file's probabilities for pairs, in batches (the runtime's default threads)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    out = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        features = encode_pairs(tokenizer, [q for q, _ in chunk], [p for _, p in chunk])
        logits = session.run(None, {name: features[name] for name in names})[0]
        out.append(sigmoid(np.asarray(logits, dtype=np.float64).reshape(-1)))
    return np.concatenate(out) if out else np.zeros(0)


def export_check(model, tokenizer, file: Path, pairs: list[tuple[str, str]]) -> ExportCheck:
    """Compare the int8 file's probabilities with torch's on `pairs` (Spearman correlation, max difference)."""
    from scipy.stats import spearmanr

    expected = torch_probabilities(model, tokenizer, pairs)
    actual = onnx_probabilities(file, tokenizer, pairs)
    if len(pairs) < 2 or np.ptp(expected) == 0 or np.ptp(actual) == 0:
        correlation = 1.0 if np.allclose(expected, actual, atol=MAX_ABS_DIFFERENCE) else 0.0
    else:
        correlation = float(spearmanr(expected, actual).statistic)
    difference = float(np.abs(expected - actual).max()) if len(pairs) else 0.0
    return ExportCheck(pairs=len(pairs), rank_correlation=correlation, max_abs_difference=difference)
