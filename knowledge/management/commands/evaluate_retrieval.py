"""Load a BEIR-format set into a fresh tenant and report nDCG@10, Recall@100 and MRR@10 per system."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from knowledge.models import RelevanceModel
from knowledge.relevance import active_scorer
from knowledge.relevance.files import META_FILE
from knowledge.relevance.scoring import folder_scorer
from knowledge.retrieval import evaluation
from knowledge.retrieval.keyword import BM25_B, BM25_K1


def _params(text: str) -> list[tuple[float, float]]:
    pairs = [(BM25_K1, BM25_B)]
    for item in filter(None, (text or "").split(";")):
        k1, b = (float(x) for x in item.split(","))
        if (k1, b) not in pairs:
            pairs.append((k1, b))
    return pairs


class Command(BaseCommand):
    help = "Evaluate the retrieval legs, their fusion and the bm25s / exact dense baselines on a BEIR set."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="Folder with corpus.jsonl, queries.jsonl, qrels/.")
        parser.add_argument("--out", help="Write the figures as one flat JSON object here.")
        parser.add_argument("--limit-queries", type=int, default=None)
        parser.add_argument("--tenant", default=None, help="Tenant slug (default eval-<dataset>).")
        parser.add_argument(
            "--relevance-model",
            default=None,
            help="A relevance model folder for `fused+relevance` (default: the active model; none: no such row).",
        )
        parser.add_argument(
            "--keyword-params", default="", help="Extra BM25 settings to compare, 'k1,b;k1,b' (e.g. '1.2,0.75')."
        )

    def handle(self, *args, dataset, out, limit_queries, tenant, keyword_params, relevance_model, **options):
        path = Path(dataset)
        if not (path / "corpus.jsonl").is_file() or not (path / "qrels" / "test.tsv").is_file():
            raise CommandError(f"{path} is not a BEIR set (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
        _require_migrated()
        scorer, split = _relevance(relevance_model)
        data = evaluation.beir_read(path, limit_queries)
        loaded = evaluation.beir_load(data, tenant or f"eval-{path.name}"[:50])
        runs = evaluation.run_systems(data, loaded, _params(keyword_params))
        if scorer is not None:
            evaluation.relevance_run(data, path, loaded, runs, scorer, split)
        figures = evaluation.report(data, loaded, runs)
        self._table(figures)
        if out:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(json.dumps(figures, indent=2) + "\n")
            self.stdout.write(f"wrote {out}")

    def _table(self, figures: dict) -> None:
        systems = sorted({k.rsplit(".", 1)[0] for k in figures if k.endswith(".ndcg@10")})
        width = max(len(s) for s in systems)
        self.stdout.write(f"{'system':<{width}}  ndcg@10  recall@100  mrr@10")
        for s in systems:
            row = f"{s:<{width}}  {figures[f'{s}.ndcg@10']:.4f}   {figures[f'{s}.recall@100']:.4f}      "
            self.stdout.write(row + f"{figures[f'{s}.mrr@10']:.4f}")
        for key, value in figures.items():
            if not key.endswith(("ndcg@10", "recall@100", "mrr@10")):
                self.stdout.write(f"{key}: {value}")


def _relevance(folder: str | None):
    """The relevance scorer and the split its model trained on: the folder given, else the active model."""
    if folder:
        try:
            scorer = folder_scorer(folder)
        except (FileNotFoundError, ValueError, KeyError) as error:
            raise CommandError(f"--relevance-model {folder}: {error}") from error
        return scorer, json.loads((Path(scorer.path) / META_FILE).read_text()).get("split", {})
    scorer = active_scorer()
    if scorer is None:
        return None, {}
    model = RelevanceModel.objects.filter(is_active=True).first()
    return scorer, model.split if model else {}


def _require_migrated() -> None:
    """Stop before loading anything when the database lags the code (the indexing path writes every table)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
        raise CommandError(f"The database lacks {len(pending)} migration(s) ({names}): run `python manage.py migrate`.")
