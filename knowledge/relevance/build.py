"""Train, export, calibrate and report one relevance model version into its folder (`train_reranker` runs it
and registers the folder).

The time budget covers everything: training stops early enough to leave the export, the agreement check and
the scoring of every calibration and report question (estimated by timing the untrained model on a
sample of those pairs) inside it.
Metrics are computed with the int8 file, the one that serves, and only on units the model never trained on.
"""

import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from knowledge.embedding import default_model_path
from knowledge.relevance import metrics as m
from knowledge.relevance.datasets import DatasetError, RelevanceSet, relevance_set_read
from knowledge.relevance.export import (
    ExportCheck,
    export_check,
    export_int8,
    onnx_probabilities,
    torch_probabilities,
)
from knowledge.relevance.files import meta_write, model_dir
from knowledge.relevance.splits import split_units
from knowledge.relevance.training import TrainConfig, TrainStats, train, training_pairs

EXPORT_RESERVE_S = 60.0  # export, quantization, agreement check and writing the folder
PACE_PAIRS = 96  # held-out pairs timed through the untrained model to estimate the scoring after training
INT8_PACE = 0.75  # the int8 file's time per pair against torch's float forward pass (a margin kept)
CHECK_PAIRS = 256  # calibration pairs scored by both torch and the int8 file
LOCALES = ["en"]  # the public sets are English


class BuildError(RuntimeError):
    """The build could not produce a model worth registering: the message says why."""


@dataclass(frozen=True)
class BuildRequest:
    datasets: list[Path]
    name: str
    max_minutes: float = 25.0
    first_version: int = 1  # the registry's next version of `name` (a folder already there moves it further)
    seed: int = 13
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass(frozen=True)
class BuildResult:
    folder: Path
    metrics: dict
    stats: TrainStats
    check: ExportCheck
    seconds: float


def relevance_model_build(request: BuildRequest, progress, say=print) -> BuildResult:
    """Run every step; `progress` is a tqdm-like factory, `say` prints a line."""
    started = time.monotonic()
    sets = _read(request)
    split = {d.name: split_units(d.name, d.unit, d.units(), request.seed) for d in sets}
    pairs = training_pairs(sets, split, request.seed)
    if not pairs or not any(label for _, _, label in pairs):
        raise DatasetError("no labelled pairs with a positive fall in the train split: give more data")
    held = {d.name: {part: m.questions_in(d, split[d.name][part]) for part in ("calibrate", "report")} for d in sets}
    to_score = sum(len(d.by_unit[q.unit]) for d in sets for qs in held[d.name].values() for q in qs)
    say(f"{len(pairs)} training pairs; {to_score} calibration and report pairs to score afterwards")

    model, tokenizer = _base_model(request.seed)
    deadline = started + request.max_minutes * 60
    reserve = EXPORT_RESERVE_S + to_score * _seconds_per_pair(model, tokenizer, sets, held, request.seed)
    say(f"{reserve / 60:.1f} min kept for export, calibration and report")

    def out_of_time(step_s: float) -> bool:
        return time.monotonic() + reserve + step_s >= deadline

    stats = train(model, tokenizer, pairs, request.train, out_of_time, progress)
    say(f"trained {stats.steps} steps in {stats.seconds:.0f} s (until {stats.stopped_by}), loss {stats.last_loss:.3f}")
    folder, version = _free_folder(request.name, request.first_version)
    partial = folder.with_name(f"{folder.name}.partial")
    try:
        check, metrics, threshold = _export_and_measure(model, tokenizer, sets, held, partial, progress, say, request)
        metrics |= _train_metrics(stats, check, len(pairs))
        meta = _meta(request, sets, split, metrics, threshold, version, stats)
        meta_write(partial, meta)
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BuildResult(folder, meta["metrics"], stats, check, time.monotonic() - started)


def _seconds_per_pair(model, tokenizer, sets, held, seed: int) -> float:
    """Time torch's forward pass over a sample of the pairs scored after training (their lengths vary by set)."""
    pairs = [
        (q.text, d.passages[pid]) for d in sets for qs in held[d.name].values() for q in qs for pid in d.by_unit[q.unit]
    ]
    sample = random.Random(seed).sample(pairs, min(PACE_PAIRS, len(pairs)))
    if not sample:
        return 0.0
    sample.sort(key=lambda pair: len(pair[0]) + len(pair[1]))  # batched by length, as the scoring is
    began = time.monotonic()
    torch_probabilities(model, tokenizer, sample)
    return INT8_PACE * (time.monotonic() - began) / len(sample)


def _read(request: BuildRequest) -> list[RelevanceSet]:
    if not request.datasets:
        raise DatasetError("give at least one --dataset folder")
    sets = [relevance_set_read(path, request.seed) for path in request.datasets]
    names = [d.name for d in sets]
    if len(set(names)) != len(names):
        raise DatasetError(f"two dataset folders share a name ({names}): the split is kept per folder name")
    return sets


def _base_model(seed: int):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = default_model_path()
    torch.manual_seed(seed)  # the new one-logit head starts from the same weights every run
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(path, use_fast=True, local_files_only=True)


def _free_folder(name: str, version: int) -> tuple[Path, int]:
    """The first version's folder from `version` on that no folder (complete or partial) holds yet."""
    while any(model_dir(name, version).with_name(f"{name}-v{version}{end}").exists() for end in ("", ".partial")):
        version += 1
    folder = model_dir(name, version)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder, version


def _export_and_measure(model, tokenizer, sets, held, partial: Path, progress, say, request):
    partial.mkdir(parents=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    file = export_int8(model, tokenizer, partial)
    check = export_check(model, tokenizer, file, _check_pairs(sets, held, request.seed))
    say(
        f"int8 against torch on {check.pairs} calibration pairs: rank correlation {check.rank_correlation:.4f}, "
        f"probability difference mean {check.mean_abs_difference:.4f}, max {check.max_abs_difference:.4f}"
    )
    if not check.ok:
        raise BuildError("the int8 export disagrees with the trained model; nothing was registered")

    def score(pairs):
        return onnx_probabilities(file, tokenizer, pairs, progress=progress)

    ranked = {d.name: {part: m.rank_questions(d, qs, score) for part, qs in held[d.name].items()} for d in sets}
    threshold = _threshold(sets, ranked)
    return check, _metrics(sets, held, ranked, threshold), threshold


def _check_pairs(sets, held, seed: int) -> list[tuple[str, str]]:
    pairs = [(q.text, d.passages[pid]) for d in sets for q in held[d.name]["calibrate"] for pid in q.judged]
    return random.Random(seed).sample(pairs, min(CHECK_PAIRS, len(pairs)))


def _threshold(sets, ranked) -> float:
    """Question level over the product sets' calibration questions; positives' scores for a BEIR-only build."""
    product = [r.best for d in sets if d.is_product_set for r in ranked[d.name]["calibrate"] if r.question.answerable]
    if product:
        return m.calibrate_threshold(product)
    positives = [
        float(score)
        for d in sets
        for r in ranked[d.name]["calibrate"]
        for pid, score in zip(r.passage_ids, r.scores, strict=True)
        if r.question.judged.get(pid, 0) >= 1
    ]
    return m.calibrate_threshold(positives)


def _metrics(sets, held, ranked, threshold: float) -> dict:
    out: dict = {"threshold": threshold}
    pooled = [r for d in sets if d.is_product_set for r in ranked[d.name]["calibrate"]]
    out["calibrate.answered"], out["calibrate.abstained"] = m.answer_rates(pooled, threshold)
    for d in sets:
        bm25 = m.Bm25(d)
        for part in ("calibrate", "report"):
            rows = ranked[d.name][part]
            key = f"{d.name}.{part}"
            out[f"{key}.questions"] = len(rows)
            out[f"{key}.answerable"] = sum(r.question.answerable for r in rows)
            out[f"{key}.answered"], out[f"{key}.abstained"] = m.answer_rates(rows, threshold)
        report = ranked[d.name]["report"]
        out[f"{d.name}.report.first_relevant"] = m.first_relevant(report)
        out[f"{d.name}.report.bm25.first_relevant"] = m.first_relevant(bm25.rank(held[d.name]["report"]))
    return out


def _train_metrics(stats: TrainStats, check: ExportCheck, pairs: int) -> dict:
    return {
        "train.pairs": pairs,
        "train.steps": stats.steps,
        "train.seconds": round(stats.seconds, 1),
        "train.last_loss": round(stats.last_loss, 4),
        "export.rank_correlation": round(check.rank_correlation, 5),
        "export.max_abs_difference": round(check.max_abs_difference, 5),
        "export.mean_abs_difference": round(check.mean_abs_difference, 5),
    }


def _meta(request: BuildRequest, sets, split, metrics, threshold, version: int, stats: TrainStats) -> dict:
    return {
        "name": request.name,
        "version": version,
        "base_model": Path(default_model_path()).name,
        "datasets": [{"name": d.name, "path": str(d.path.resolve()), "pairs": d.pairs} for d in sets],
        "split": split,
        "metrics": metrics,
        "threshold": threshold,
        "locales": LOCALES,
        "seed": request.seed,
        "train": {
            "batch": request.train.batch,
            "lr": request.train.lr,
            "epochs": request.train.epochs,
            "max_steps": request.train.max_steps,
            "stopped_by": stats.stopped_by,
        },  # fmt: skip
        "created_at": timezone.now().isoformat(),
    }
