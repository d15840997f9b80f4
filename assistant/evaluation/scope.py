"""Which questions an evaluation may report on: none whose product the active relevance model learned from.

A model's split names, per set (the folder's name), the units it trained and calibrated on and those it kept
for reporting: product ids (hetPQA `asin`, semiPQA `product_group`) or, with unit `query`, question ids. A
set the model never saw is reported whole; so is every set when no model is active.
"""

from dataclasses import dataclass

from assistant.evaluation.dataset import EvaluationInputError, PqaSet, Question

SEEN = ("train", "calibrate")


@dataclass(frozen=True)
class ReportScope:
    model: str  # the active model's version ("pqa@v1"), or "none"
    unit: str  # product | query
    excluded: frozenset[str]  # the units the model trained or calibrated on
    note: str

    def reported(self, question: Question) -> bool:
        unit = question.id if self.unit == "query" else question.product
        return unit not in self.excluded


def report_scope(data: PqaSet, model) -> ReportScope:
    """The scope for `model` (a RelevanceModel or None); EvaluationInputError when its split overlaps."""
    if model is None:
        return ReportScope("none", "product", frozenset(), "no model: every question is reported")
    version = f"{model.name}@v{model.version}"
    split = (model.split or {}).get(data.name)
    if not split:
        return ReportScope(version, "product", frozenset(), f"{version} never saw {data.name}: every question")
    seen = {str(unit) for part in SEEN for unit in split.get(part, ())}
    overlap = seen & {str(unit) for unit in split.get("report", ())}
    if overlap:
        example = ", ".join(sorted(overlap)[:5])
        raise EvaluationInputError(
            f"the active model {version} lists {len(overlap)} {data.name} unit(s) both for training or "
            f"calibration and for reporting ({example}): its figures would not be held out; roll it back "
            "(`relevance_model rollback`) or activate a model with a clean split"
        )
    unit = "query" if split.get("unit") == "query" else "product"
    note = f"{version}: questions on {len(seen)} {unit} unit(s) it trained or calibrated on are left out"
    return ReportScope(version, unit, frozenset(seen), note)
