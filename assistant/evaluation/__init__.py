"""Evaluate the assistant's answers on a product question-answering set (`manage.py evaluate_answers`).

The set is imported into a fresh tenant as a shop's feed (`loading`), every question is asked of its product
through the same pipeline `/ai/v1/chat` runs (`answers`), and the answers, their citations and the untrained
baselines (`baselines`) are scored against the set's judgments, on the questions whose products the active
relevance model neither trained nor calibrated on (`scope`).
"""

from pathlib import Path

from assistant.evaluation.answers import ask_all, figures_of
from assistant.evaluation.dataset import EvaluationInputError, pqa_read
from assistant.evaluation.loading import LoadFailed, pqa_load
from assistant.evaluation.scope import report_scope
from knowledge.ingestion.progress import no_progress

__all__ = ["EvaluationInputError", "LoadFailed", "evaluate_answers"]


def evaluate_answers(
    path: Path,
    *,
    model,
    product_field: str | None = None,
    limit: int | None = None,
    tenant: str | None = None,
    progress=no_progress,
) -> dict:
    """Load the set at `path`, ask its reported questions and return the flat figures."""
    data = pqa_read(path, product_field)
    scope = report_scope(data, model)
    reported = [question for question in data.questions if scope.reported(question)]
    if limit:
        reported = reported[:limit]
    if not reported:
        raise EvaluationInputError(f"no question of {data.name} is left to report on ({scope.note})")
    products = list(dict.fromkeys(question.product for question in reported))
    loaded = pqa_load(data, products, (tenant or f"eval-answers-{data.name}")[:50], progress)
    outcomes = ask_all(data, loaded, reported, progress)
    return {
        "dataset": data.name,
        "product_field": data.product_field,
        "model": scope.model,
        "model_note": scope.note,
        "questions": len(data.questions),
        "excluded_questions": len(data.questions) - sum(scope.reported(q) for q in data.questions),
        **figures_of(data, loaded, outcomes),
        "products": len(products),
        "snippets": loaded.snippets,
        "snippets_split": loaded.snippets_split,
        "snippets_skipped": loaded.snippets_skipped,
        "load.seconds": round(loaded.seconds, 1),
    }
