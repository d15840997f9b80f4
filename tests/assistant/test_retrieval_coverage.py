"""Retrieval confidence: the share of the question's content terms found in the passages."""

from assistant.pipeline.retrieval import coverage
from assistant.pipeline.types import Passage
from knowledge.models import Chunk


def _passage(text: str) -> Passage:
    return Passage(Chunk(title="Shipping", text=text), 1.0, {})


def test_coverage__every_question_term_in_the_passages_is_full_coverage():
    passages = (_passage("Standard delivery takes a long three to five working days."),)

    assert coverage("How long does delivery take?", passages) == 1.0


def test_coverage__counts_the_share_of_terms_found():
    passages = (_passage("Standard delivery is free."),)

    assert coverage("How long does delivery take?", passages) == 1 / 3
    assert coverage("How long does delivery take?", ()) == 0.0
