"""Train a relevance model (cross-encoder) on labelled question/passage sets and register it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from knowledge.relevance.build import BuildError, BuildRequest, relevance_model_build
from knowledge.relevance.datasets import DatasetError
from knowledge.relevance.training import TrainConfig
from knowledge.services.relevance import relevance_model_next_version, relevance_model_register

NAME_MAX = 60  # leaves room for "-vN" in the folder and the row's 80 characters


class Command(BaseCommand):
    help = (
        "Fine-tune the bundled MiniLM as a cross-encoder on product (pairs.tsv) or BEIR (qrels/train.tsv) sets, "
        "calibrate its answer threshold, export it to int8 ONNX and register it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", action="append", required=True, help="A data folder (repeat for more).")
        parser.add_argument("--out", required=True, help="The model's name, e.g. pqa (folder NAME-vN).")
        parser.add_argument("--max-minutes", type=float, default=25.0, help="Budget for the whole run.")
        parser.add_argument("--activate", action="store_true", help="Make the new version the active model.")
        parser.add_argument(
            "--no-register", action="store_true", help="Write the folder only; register it with relevance_model."
        )
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--batch", type=int, default=16)
        parser.add_argument("--lr", type=float, default=3e-5)
        parser.add_argument("--epochs", type=int, default=3)
        parser.add_argument("--max-steps", type=int, default=None, help="Stop training after this many steps.")

    def handle(
        self, *args, dataset, out, max_minutes, activate, no_register, seed, batch, lr, epochs, max_steps, **options
    ):
        if not out or len(out) > NAME_MAX or not out.replace("-", "").replace("_", "").isalnum():
            raise CommandError(f"--out {out!r}: use up to {NAME_MAX} letters, digits, '-' or '_'")
        if max_minutes <= 0 or batch < 1 or epochs < 1 or lr <= 0 or (max_steps is not None and max_steps < 1):
            raise CommandError("--max-minutes, --batch, --epochs, --lr and --max-steps must be positive")
        request = BuildRequest(
            datasets=[Path(d) for d in dataset], name=out, max_minutes=max_minutes, seed=seed,
            first_version=1 if no_register else relevance_model_next_version(out),
            train=TrainConfig(batch=batch, lr=lr, epochs=epochs, max_steps=max_steps, seed=seed),
        )  # fmt: skip
        try:
            result = relevance_model_build(request, progress=self._progress, say=self.stdout.write)
        except (DatasetError, BuildError) as error:
            raise CommandError(str(error)) from error
        self._table(result.metrics, [d.name for d in request.datasets])
        minutes = f"{result.seconds / 60:.1f} min"
        if no_register:
            self.stdout.write(self.style.SUCCESS(f"wrote {result.folder} in {minutes} (not registered)"))
            return
        model = relevance_model_register(path=result.folder, activate=activate)
        state = "active" if model.is_active else "not active (relevance_model activate NAME@vN)"
        self.stdout.write(self.style.SUCCESS(f"registered {model.label} ({state}) in {minutes}: {result.folder}"))

    def _progress(self, **kwargs):
        return tqdm(file=self.stderr._out, mininterval=2.0, **kwargs)

    def _table(self, figures: dict, names: list[str]) -> None:
        self.stdout.write(f"threshold {figures['threshold']:.4f}")
        self.stdout.write(
            f"calibrate: answered {_pct(figures.get('calibrate.answered'))} of answerable, "
            f"abstained {_pct(figures.get('calibrate.abstained'))} of unanswerable"
        )
        header = f"{'dataset':<12} {'questions':>9} {'first_relevant':>14} {'bm25':>7} {'answered':>9} {'abstained':>9}"
        self.stdout.write(header)
        for name in names:
            key = f"{name}.report"
            model, bm25 = _pct(figures.get(f"{key}.first_relevant")), _pct(figures.get(f"{key}.bm25.first_relevant"))
            answered, abstained = _pct(figures.get(f"{key}.answered")), _pct(figures.get(f"{key}.abstained"))
            questions = figures.get(f"{key}.questions", 0)
            self.stdout.write(f"{name:<12} {questions:>9} {model:>14} {bm25:>7} {answered:>9} {abstained:>9}")


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
