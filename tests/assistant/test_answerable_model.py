"""Answers with a relevance model in force: the session's trained model (tests/conftest.py) re-ranks the
passages and the verifier serves only sentences citing a passage it scores at or above its threshold.

The session's model is small and trained in seconds, so which lamp question it judges answered at its
calibrated threshold is not asserted question by question; that its scores and threshold decide is, and
with the threshold pinned the outcome is.

The lamp shop built here states its products' attributes one per list item, as the model's templated
training passages do (tests/relevance_data.py), and leaves some unstated.
"""

import pytest

from assistant.text import cited_numbers
from catalog import services as catalog_services
from governance.models import AnswerRecord
from knowledge.relevance.scoring import forget_active
from knowledge.services.relevance import relevance_model_activate
from tests import factories
from tests.assistant.conftest import index_all

pytestmark = pytest.mark.django_db

CHAT = "/ai/v1/chat"
ANSWERABLE = ["How heavy is the Kestrel lamp?", "What is the Kestrel lamp made of?"]
UNANSWERABLE = ["What colour is the Kestrel lamp?", "What are the dimensions of the Kestrel lamp?"]


@pytest.fixture
def lamps(active_space):
    tenant = factories.TenantFactory(slug="lamp-shop")
    category = factories.CategoryFactory(tenant=tenant, slug="lighting", name="Lighting")
    lamp = factories.product(
        tenant, category, handle="kestrel-lamp", title="Kestrel Desk Lamp", brand="Kestrel",
        description="- The Kestrel lamp weighs 2.4 kg.\n- The Kestrel lamp is made of aluminium.\n"
        "- A perfect gift for the whole family.\n- Designed in Europe with care.",
    )  # fmt: skip
    catalog_services.product_translation_set(
        lamp, locale="de", title="Kestrel Schreibtischlampe", description="Die Kestrel Lampe wiegt 2,4 kg."
    )
    policy = factories.policy(
        tenant, slug="returns", kind="returns", region="EU", title="Returns",
        body="# Returns\n\nYou can return items within 30 days of delivery.",
    )  # fmt: skip
    index_all([lamp], (), [policy])
    _, raw = factories.api_key(tenant)
    return factories.api_client(raw)


@pytest.fixture
def model(trained_relevance_model):
    """The session's trained model, active for this test only."""
    yield relevance_model_activate(model=trained_relevance_model)
    forget_active()


@pytest.fixture
def pinned(trained_relevance_model):
    """Activate the session's model with its threshold set to a value the test names: the model scores as
    trained, the threshold decides what answers."""

    def activate(threshold: float):
        trained_relevance_model.threshold = threshold
        trained_relevance_model.save(update_fields=["threshold"])
        return relevance_model_activate(model=trained_relevance_model)

    yield activate
    forget_active()


def _ask(client, question: str, locale: str | None = None) -> tuple[dict, AnswerRecord]:
    data = {"question": question, "product": "kestrel-lamp", **({"locale": locale} if locale else {})}
    response = client.post(CHAT, data, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    return body, AnswerRecord.objects.get(pk=body["answer_id"])


def _evidence(record: AnswerRecord) -> list:
    claims = [(c.status, c.reasons, c.drafted) for c in record.claims.all()]
    return [(row["citation_id"], row["relevance"]) for row in record.retrieved] + claims


def _assert_relevance_decides(body: dict, record: AnswerRecord, model) -> None:
    """Scored passages come first, by relevance; a served sentence cites one at or above the threshold, a
    sentence removed as irrelevant cites none; nothing at or above it means an abstention."""
    assert f"relevance {model.label}" in record.reranker_version
    scores = [row["relevance"] for row in record.retrieved]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)  # under 12: all scored
    for claim in record.claims.all():
        cited = [scores[n - 1] for n in cited_numbers(claim.drafted) if 0 < n <= len(scores)]
        if claim.status != "removed":
            assert max(cited) >= model.threshold, (claim.text, cited)
        elif claim.reasons == ["irrelevant"]:
            assert max(cited) < model.threshold, (claim.drafted, cited)
    if max(scores) < model.threshold:
        assert body["verdict"] == "abstained" and body["abstain_reason"]["code"] in ("not_answered", "weak_retrieval")


@pytest.mark.parametrize("question", ANSWERABLE + UNANSWERABLE)
def test_answerable_with_model__the_calibrated_threshold_decides_what_is_served(lamps, model, question):
    body, record = _ask(lamps, question)

    _assert_relevance_decides(body, record, model)
    assert (body["verdict"] == "abstained") is not any(c.status != "removed" for c in record.claims.all())


def test_answerable_with_model__no_passage_at_the_threshold_abstains_as_not_answered(lamps, pinned):
    model = pinned(1.0)  # no probability reaches it

    body, record = _ask(lamps, ANSWERABLE[0])

    _assert_relevance_decides(body, record, model)
    assert record.draft == ""  # the built-in synthesizer drafts from passages at the threshold only
    assert body["verdict"] == "abstained" and body["citations"] == [], _evidence(record)
    message = "Nothing in Kestrel Desk Lamp's information answers this question."
    assert body["abstain_reason"] == {"code": "not_answered", "message": message}
    assert record.abstain_reason == "not_answered"


def test_answerable_with_model__a_draft_citing_passages_at_the_threshold_is_served(lamps, pinned):
    model = pinned(0.0)  # every probability reaches it

    body, record = _ask(lamps, ANSWERABLE[0])

    _assert_relevance_decides(body, record, model)
    assert body["verdict"] in ("verified", "corrected", "partial"), _evidence(record)
    assert "2.4 kg" in body["answer"] and record.abstain_reason == ""


def test_answerable_with_model__a_locale_the_model_was_not_trained_for_stays_lexical(lamps, model):
    body, record = _ask(lamps, "Wie schwer ist die Kestrel Lampe?", locale="de")

    assert model.locales == ["en"]
    assert body["verdict"] in ("verified", "corrected", "partial"), body
    assert "2,4 kg" in body["answer"]
    assert "relevance lexical: de not trained" in record.reranker_version
    assert all("relevance" not in row for row in record.retrieved)


def test_answerable_with_model__an_llm_sentence_citing_no_passage_at_the_threshold_is_removed(lamps, pinned, llm):
    model = pinned(1.0)  # no probability reaches it
    llm.reply("The Kestrel lamp weighs 2.4 kg [1].")

    body, record = _ask(lamps, ANSWERABLE[0])

    _assert_relevance_decides(body, record, model)
    assert "2.4 kg" in record.draft and record.provider == llm.provider_name  # drafted, then removed
    assert body["verdict"] == "abstained" and body["citations"] == []
    assert {tuple(c.reasons) for c in record.claims.all()} == {("irrelevant",)}
    assert record.abstain_reason == "not_answered"
