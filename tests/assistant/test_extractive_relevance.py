"""The built-in synthesizer with a relevance model's scores: it drafts from the passages scored as answering,
even when they share no word with the question, and from none when no passage reaches the threshold."""

from assistant.providers.base import PromptPassage, ProviderRequest
from assistant.providers.extractive import ExtractiveProvider

QUESTION = "Does this toy need batteries?"
PASSAGES = (
    PromptPassage(1, "doc:h1@1#p1", "Product information", "Bright colours that children love every day.", "spec"),
    PromptPassage(2, "doc:h2@1#p1", "Product information", "is_electric: false", "spec"),
    PromptPassage(3, "doc:h3@1#p1", "Product information", "Batteries make every toy more fun to play with.", "spec"),
)


def _draft(scores: tuple[float, ...] | None, threshold: float | None) -> str:
    passages = PASSAGES
    if scores is not None:
        passages = tuple(
            PromptPassage(p.number, p.citation_id, p.title, p.text, p.source, relevance=s)
            for p, s in zip(PASSAGES, scores, strict=True)
        )
    request = ProviderRequest(
        capability="chat", system="", prompt="", question=QUESTION, passages=passages, relevance_threshold=threshold
    )
    return ExtractiveProvider().complete(request).text


def test_extractive__the_passage_scored_as_answering_leads_though_it_shares_no_word_with_the_question():
    draft = _draft((0.05, 0.91, 0.12), 0.5)

    assert draft == "Product information – is_electric: false [2]."  # [1], [3] are below: not support


def test_extractive__no_passage_at_the_threshold_gives_no_draft():
    assert _draft((0.05, 0.2, 0.3), 0.5) == ""


def test_extractive__without_scores_term_overlap_decides():
    draft = _draft(None, None)

    # "is_electric" shares no word with the question: lexically the marketing line wins (what the model fixes)
    assert "[2]" not in draft and "[3]" in draft
