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
# The threshold is calibrated on the int8 file's own probabilities, so what matters is that it orders pairs
# as the trained model does and moves them little on the whole; a single pair near a logit of 0 can move
# far (the largest difference is reported, not gated).
MIN_RANK_CORRELATION = 0.97
MAX_MEAN_DIFFERENCE = 0.03
NEAR_TIES = 0.01  # within this, pairs the int8 model orders differently were near-ties anyway


@dataclass(frozen=True)
class ExportCheck:
    """How far the int8 model's probabilities are from torch's on the same pairs."""

    pairs: int
    rank_correlation: float
    max_abs_difference: float
    mean_abs_difference: float

    @property
    def ok(self) -> bool:
        if self.max_abs_difference <= NEAR_TIES:
            return True
        return self.rank_correlation >= MIN_RANK_CORRELATION and self.mean_abs_difference <= MAX_MEAN_DIFFERENCE


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
        quantize_dynamic(str(float_file), str(target), weight_type=QuantType.QInt8, per_channel=True)
    os.remove(float_file)
    return target


@contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
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


def onnx_probabilities(
    file: Path, tokenizer, pairs: list[tuple[str, str]], batch: int = CHECK_BATCH, progress=None
) -> np.ndarray:
    """The ONNX file's probabilities for pairs, batched by length (less padding), in the pairs' order."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    out = np.zeros(len(pairs))
    bar = progress(total=len(pairs), desc="scoring", unit="pair") if progress else None
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        features = encode_pairs(tokenizer, [pairs[i][0] for i in chunk], [pairs[i][1] for i in chunk])
        logits = session.run(None, {name: features[name] for name in names})[0]
        out[chunk] = sigmoid(np.asarray(logits, dtype=np.float64).reshape(-1))
        if bar:
            bar.update(len(chunk))
    if bar:
        bar.close()
    return out


def export_check(model, tokenizer, file: Path, pairs: list[tuple[str, str]]) -> ExportCheck:
    """Compare the int8 file's probabilities with torch's on `pairs` (Spearman correlation, max difference)."""
    from scipy.stats import spearmanr

    expected = torch_probabilities(model, tokenizer, pairs)
    actual = onnx_probabilities(file, tokenizer, pairs)
    if len(pairs) < 2 or np.ptp(expected) == 0 or np.ptp(actual) == 0:
        correlation = 1.0 if np.allclose(expected, actual, atol=NEAR_TIES) else 0.0
    else:
        correlation = float(spearmanr(expected, actual).statistic)
    differences = np.abs(expected - actual) if len(pairs) else np.zeros(1)
    return ExportCheck(len(pairs), correlation, float(differences.max()), float(differences.mean()))
