"""`manage.py evaluate_answers --dataset DIR --out FILE.json`: score the assistant's answers on a product QA set."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assistant.evaluation import EvaluationInputError, LoadFailed, evaluate_answers
from knowledge.ingestion.progress import bar_on
from knowledge.models import RelevanceModel


class Command(BaseCommand):
    help = (
        "Import a product QA set (BEIR files plus a product field, e.g. hetPQA, semiPQA) into a fresh tenant as "
        "a feed, ask every question of its product through the assistant pipeline, and report answer rates, "
        "citation precision, latency and the untrained baselines on the questions whose products the active "
        "relevance model did not train or calibrate on."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset", required=True, help="Folder with corpus.jsonl, queries_all.jsonl and qrels/test.tsv."
        )
        parser.add_argument(
            "--product-field", default=None, help="The field naming each row's product (default: the one field "
            "besides ids and texts that corpus and questions share, e.g. asin or product_group).",
        )  # fmt: skip
        parser.add_argument("--limit-questions", type=int, default=None, help="Ask only the first N questions.")
        parser.add_argument("--tenant", default=None, help="Tenant slug (default eval-answers-<dataset>).")
        parser.add_argument("--out", required=True, help="Write the figures as one flat JSON object here.")

    def handle(self, *args, dataset, product_field, limit_questions, tenant, out, **options):
        path = Path(dataset)
        if not path.is_dir():
            raise CommandError(f"--dataset {dataset}: no such folder")
        if limit_questions is not None and limit_questions < 1:
            raise CommandError("--limit-questions must be at least 1")
        model = RelevanceModel.objects.filter(is_active=True).first()
        try:
            figures = evaluate_answers(
                path, model=model, product_field=product_field, limit=limit_questions, tenant=tenant,
                progress=bar_on(self.stderr),
            )  # fmt: skip
        except (EvaluationInputError, LoadFailed) as exc:
            raise CommandError(str(exc)) from exc
        self._table(figures)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(figures, indent=2) + "\n")
        self.stdout.write(f"wrote {out}")

    def _table(self, figures: dict) -> None:
        width = max(len(key) for key in figures)
        for key, value in figures.items():
            shown = "null" if value is None else value
            self.stdout.write(f"{key:<{width}}  {shown}")
