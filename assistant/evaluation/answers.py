"""Ask each question of its product through the assistant pipeline, as `/ai/v1/chat` does, and score what
came back against the set's judgments, beside the untrained baselines on the same questions."""

import re
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from assistant.evaluation.baselines import BASELINES, Baselines
from assistant.evaluation.dataset import PqaSet, Question
from assistant.evaluation.loading import Loaded
from assistant.pipeline.pipeline import AssistantPipeline
from assistant.pipeline.types import Ask, GuardrailRejected
from assistant.providers import router
from governance.models import Verdict
from knowledge import warmup
from knowledge.ingestion.progress import no_progress
from knowledge.relevance import active_scorer

NOT_ANSWERED = (Verdict.ABSTAINED, Verdict.REFUSED, "rejected")
DIGITS = 4


@dataclass
class Outcome:
    question: Question
    verdict: str
    ms: float
    answer: str = ""
    citations: list[int] = field(default_factory=list)  # cited chunk ids, in the answer's numbering order
    top_passage: int | None = None  # the first passage after re-ranking
    baselines: dict[str, int | None] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.verdict not in NOT_ANSWERED


def warm_up() -> None:
    """Load what a web process loads before its first request, so the first answer is timed as any other."""
    warmup.warm_up(serving=True)
    router.warm_up()
    scorer = active_scorer()
    if scorer is not None:
        scorer.score("warm up", ["warm up"])


def ask_all(data: PqaSet, loaded: Loaded, questions: list[Question], progress=no_progress) -> list[Outcome]:
    """Ask every question with its product through the pipeline; time each answer; run the baselines."""
    warm_up()
    pipeline, baselines, outcomes = AssistantPipeline(), Baselines(loaded), []
    for question in progress(questions, desc="questions", unit="question"):
        ask = Ask(capability="chat", question=question.text, product=loaded.handles[question.product])
        began = time.perf_counter()
        try:
            answer = pipeline.answer(loaded.caller, ask)
        except GuardrailRejected:  # the API's 400: the question is not asked
            outcome = Outcome(question, "rejected", (time.perf_counter() - began) * 1000)
        else:
            outcome = Outcome(question, answer.verified.verdict, (time.perf_counter() - began) * 1000)
            outcome.answer = answer.verified.answer
            outcome.citations = [c.chunk.pk for c in sorted(answer.verified.citations, key=lambda c: c.number)]
            passages = answer.retrieved.passages if answer.retrieved else ()
            outcome.top_passage = passages[0].chunk.pk if passages else None
        outcome.baselines = baselines.first(question.text, loaded.product_pks[question.product])
        outcomes.append(outcome)
    return outcomes


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, DIGITS) if total else None


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"\[\d+\]", " ", text.lower()))


def token_f1(answer: str, written: tuple[str, ...]) -> float:
    """The best token-overlap F1 of `answer` against any written answer (SQuAD's measure)."""
    best, mine = 0.0, _tokens(answer)
    for reference in written:
        theirs = _tokens(reference)
        common = sum(min(mine.count(t), theirs.count(t)) for t in set(mine))
        if common:
            precision, recall = common / len(mine), common / len(theirs)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


class Scorer:
    """Judge cited and ranked passages against the set's labels."""

    def __init__(self, data: PqaSet, loaded: Loaded):
        self.data, self.loaded = data, loaded

    def relevant(self, outcome: Outcome, chunk_id: int | None) -> bool:
        return self.data.relevant(outcome.question.id, self.loaded.snippet_of_chunk.get(chunk_id))

    def judged(self, outcome: Outcome, chunk_id: int) -> bool:
        return self.data.judged(outcome.question.id, self.loaded.snippet_of_chunk.get(chunk_id))

    def other_product(self, outcome: Outcome, chunk_id: int) -> bool:
        product = self.loaded.product_of_chunk.get(chunk_id)
        return product is not None and product != self.loaded.product_pks[outcome.question.product]


def _citation_figures(scorer: Scorer, outcomes: list[Outcome]) -> dict:
    cited = [(o, c) for o in outcomes for c in o.citations]
    return {
        "citation_precision": _share(sum(scorer.relevant(o, c) for o, c in cited), len(cited)),
        "unjudged_citation_share": _share(sum(not scorer.judged(o, c) for o, c in cited), len(cited)),
        "cross_product_citations": sum(scorer.other_product(o, c) for o, c in cited),
        "citations": len(cited),
    }


def _baseline_figures(scorer: Scorer, answered: list[Outcome], answerable: list[Outcome]) -> dict:
    figures = {}
    for name in BASELINES:
        figures[f"baseline.{name}.first_citation_relevant"] = _share(
            sum(scorer.relevant(o, o.baselines[name]) for o in answered), len(answered)
        )
        figures[f"baseline.{name}.all.first_relevant"] = _share(
            sum(scorer.relevant(o, o.baselines[name]) for o in answerable), len(answerable)
        )
    best = [figures[f"baseline.{name}.first_citation_relevant"] for name in BASELINES]
    figures["baseline.first_citation_relevant"] = max(best) if answered else None
    figures["ranking.first_relevant"] = _share(sum(scorer.relevant(o, o.top_passage) for o in answerable),
                                               len(answerable))  # fmt: skip
    return figures


def _f1_figures(outcomes: list[Outcome]) -> dict:
    written = [o for o in outcomes if o.question.answers]
    if not written:
        return {"token_f1": None, "token_f1_note": "the set has no written answers: token F1 is not computed"}
    scores = [token_f1(o.answer, o.question.answers) if o.answered else 0.0 for o in written]
    return {"token_f1": round(statistics.fmean(scores), DIGITS), "token_f1_questions": len(written)}


def figures_of(data: PqaSet, loaded: Loaded, outcomes: list[Outcome]) -> dict:
    """The flat figures: answer rates, citation quality, latency, and the baselines on the same questions."""
    scorer = Scorer(data, loaded)
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    answered = [o for o in answerable if o.answered]
    ms = np.asarray([o.ms for o in outcomes]) if outcomes else np.zeros(1)
    figures = {
        "answered_rate": _share(len(answered), len(answerable)),
        "abstain_rate_unanswerable": _share(sum(not o.answered for o in unanswerable), len(unanswerable)),
        "first_citation_relevant": _share(
            sum(bool(o.citations) and scorer.relevant(o, o.citations[0]) for o in answered), len(answered)
        ),
        **_citation_figures(scorer, outcomes),
        **_f1_figures(outcomes),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "reported_questions": len(outcomes),
        "answerable": len(answerable),
        "answered_answerable": len(answered),
        "unanswerable": len(unanswerable),
        **_baseline_figures(scorer, answered, answerable),
    }
    verdicts: dict[str, int] = {}
    for outcome in outcomes:
        verdicts[outcome.verdict] = verdicts.get(outcome.verdict, 0) + 1
    figures |= {f"verdict.{name}": count for name, count in sorted(verdicts.items())}
    return figures
