"""Answers answer the question: a product question its passages do not answer abstains and says so.

A small garden shop built here: a rain barrel (with a German translation and a customer Q&A), a camp kettle
and a returns policy. Without a relevance model the checks are lexical (every sentence's words are its cited
passages', the question's numbers and codes are in them); measures compare normalized ("55-gallon").
"""

import re

import pytest
from django.urls import reverse

from assistant.pipeline import claims as find
from assistant.text import normalize_measures
from catalog import services as catalog_services
from catalog.models import Product
from governance.models import AnswerRecord
from knowledge.models import RelevanceModel
from knowledge.relevance.scoring import forget_active
from knowledge.services.relevance import relevance_model_activate
from tests import factories
from tests.assistant.conftest import index_all
from tests.assistant.fake_openai import Reply
from tests.assistant.sse import sse_events

CHAT = "/ai/v1/chat"
QA_QUESTION = "Is the barrel safe for storing drinking water?"
BARREL = "Aquarain Rain Barrel"


@pytest.fixture
def garden(active_space):
    tenant = factories.TenantFactory(slug="garden-shop")
    category = factories.CategoryFactory(tenant=tenant, slug="garden", name="Garden")
    barrel = factories.product(
        tenant, category, handle="rain-barrel", title=BARREL, brand="Aquarain",
        description="A 55 gallon rain barrel made of recycled plastic. The brass spigot fits a standard garden hose.",
    )  # fmt: skip
    catalog_services.product_translation_set(
        barrel, locale="de", title="Aquarain Regentonne",
        description="Die Regentonne fasst 208 Liter Regenwasser. Sie besteht aus recyceltem Kunststoff.",
    )  # fmt: skip
    kettle = factories.product(
        tenant, category, handle="camp-kettle", title="Trailmate Camp Kettle", brand="Trailmate",
        description="The camp kettle keeps water at 150°F for tea. Its USB-C port charges a phone at the campsite.",
    )  # fmt: skip
    qa = factories.document(  # titled with its question, as editors often do: the index keeps the answer only
        tenant, kind="qa", slug="qa-rain-barrel-1", product=barrel, author="Garden team", title=QA_QUESTION,
        question=QA_QUESTION,
        body="No: the barrel is not food grade, so never store drinking water in it. It is made for the garden.",
    )  # fmt: skip
    returns = factories.policy(
        tenant, slug="returns", kind="returns", region="EU", title="Returns",
        body="# Returns\n\nYou can return items within 30 days of delivery.",
    )  # fmt: skip
    index_all([barrel, kettle], (), [returns], [qa])
    _, raw = factories.api_key(tenant)
    return factories.api_client(raw)


def _chat(client, question: str, **fields) -> dict:
    response = client.post(CHAT, {"question": question, **fields}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _record(body: dict) -> AnswerRecord:
    return AnswerRecord.objects.get(pk=body["answer_id"])


# Normalization -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("a 55-gallon drum", "a 55 gallon drum"),
        ("a 55-gallon drum", "a 55 gallons drum"),
        ("150°F", "150 degrees Fahrenheit"),
        ("150°F", "150 F"),
        ("a 3-pack", "a 3 pack"),
        ("USB-C", "USB C"),
        ("MX-500", "MX500"),
    ],
)
def test_normalize_measures__writes_measures_codes_and_hyphens_one_way(one, other):
    assert normalize_measures(one).lower() == normalize_measures(other).lower()


def test_normalize_measures__keeps_different_numbers_and_units_apart():
    assert normalize_measures("55-gallon") != normalize_measures("65 gallon")
    assert normalize_measures("150°F") != normalize_measures("150°C")
    assert normalize_measures("a 2-year warranty") == "a 2 year warranty"  # not a model code


def test_figures__a_measure_matches_its_other_spelling_and_a_wrong_number_or_unit_fails():
    allowed = find.figures_of("A 55 gallon rain barrel. Keeps water at 150 degrees Fahrenheit.")

    def missing(sentence):
        return find.figures_missing(find.figures_in(sentence, []), allowed)

    assert missing("It is a 55-gallon barrel [1].") == set()
    assert missing("It holds 55 gallons at 150°F [1].") == set()
    assert missing("It holds 55 [1].") == set()  # the number alone: the passage states it
    assert missing("It is a 65-gallon barrel [1].") == {"65 gallon"}
    assert missing("It holds 55 litres [1].") == {"55 litre"}
    assert missing("It keeps water at 150°C [1].") == {"150 celsius"}


# The answer path, lexical (no relevance model) --------------------------------------------------------------


@pytest.mark.django_db
def test_answerable__a_question_its_product_passages_answer_is_answered(garden):
    body = _chat(garden, "What is the rain barrel made of?", product="rain-barrel")

    assert body["verdict"] in ("verified", "corrected", "partial"), body
    assert "recycled plastic" in body["answer"] and body["abstain_reason"] is None
    record = _record(body)
    assert record.abstain_reason == "" and "lexical: no model" in record.reranker_version
    assert all("relevance" not in row for row in record.retrieved)  # nothing was scored


@pytest.mark.django_db
@pytest.mark.parametrize(
    "question",
    [
        "Does the rain barrel come with a solar pump?",
        "Is it a 65-gallon barrel?",  # a number the passages do not state
        "What motor powers the pump of the barrel?",
    ],
)
def test_answerable__a_question_its_product_passages_do_not_answer_abstains_and_says_so(garden, question):
    body = _chat(garden, question, product="rain-barrel")

    assert body["verdict"] == "abstained" and body["citations"] == [], body["answer"]
    message = f"Nothing in {BARREL}'s information answers this question."
    assert body["abstain_reason"] == {"code": "not_answered", "message": message}
    assert _record(body).abstain_reason == "not_answered"


@pytest.mark.django_db
def test_answerable__a_hyphenated_measure_in_the_question_matches_the_passage(garden):
    body = _chat(garden, "Is it a 55-gallon barrel?", product="rain-barrel")

    assert body["verdict"] in ("verified", "corrected", "partial"), body
    assert "55 gallon" in body["answer"]
    assert [c["citation_id"].partition("@")[0] for c in body["citations"]] == ["product:rain-barrel"]


@pytest.mark.django_db
def test_answerable__a_stored_qa_question_is_never_an_answer_sentence(garden):
    body = _chat(garden, QA_QUESTION, product="rain-barrel")

    assert body["verdict"] in ("verified", "corrected", "partial"), body
    assert "not food grade" in body["answer"]
    assert QA_QUESTION.rstrip("?") not in body["answer"]
    assert all(QA_QUESTION.rstrip("?") not in claim.text for claim in _record(body).claims.all())


@pytest.mark.django_db
def test_answerable__a_german_question_the_passages_support_is_answered_without_a_model(garden):
    body = _chat(garden, "Wie viele Liter fasst die Regentonne?", product="rain-barrel", locale="de")

    assert body["verdict"] in ("verified", "corrected", "partial"), body
    assert "208 Liter" in body["answer"]
    assert "lexical: no model" in _record(body).reranker_version


# A relevance model in force ----------------------------------------------------------------------------------


@pytest.fixture
def activate():
    """Activate a relevance model for one test; afterwards this process reads the active model afresh."""
    yield lambda model: relevance_model_activate(model=model)
    forget_active()


@pytest.mark.django_db
def test_answerable__a_model_whose_files_fail_to_load_leaves_the_lexical_path(garden, activate, tmp_path, caplog):
    for name in ("meta.json", "model-int8.onnx", "tokenizer.json"):
        (tmp_path / name).write_text("not a model")
    activate(RelevanceModel.objects.create(name="broken", version=1, path=str(tmp_path), threshold=0.5, locales=["en"]))

    body = _chat(garden, "What is the rain barrel made of?", product="rain-barrel")

    assert "recycled plastic" in body["answer"]
    assert "relevance lexical: model failed" in _record(body).reranker_version
    assert "relevance model broken@v1 failed" in caplog.text


# A drafting LLM (the OpenAI protocol) -------------------------------------------------------------------------


def _citing(phrase: str, sentence: str):
    """A reply citing the passage of the request that holds `phrase` (as a grounded model would)."""

    def reply(body: dict) -> Reply:
        prompt = body["messages"][-1]["content"]
        blocks = re.split(r"\n(?=\[\d+\] )", prompt)
        number = next(re.match(r"\[(\d+)\]", b).group(1) for b in blocks if phrase in b and re.match(r"\[\d+\]", b))
        return Reply(text=sentence.format(n=number))

    return reply


@pytest.mark.django_db
def test_answerable__an_llm_answering_from_its_own_knowledge_gives_an_abstention(garden, llm):
    llm.reply("Yes, the barrel ships with a quiet solar pump that waters your lawn automatically [1].")

    body = _chat(garden, "Does the rain barrel come with a solar pump?", product="rain-barrel")

    assert llm.chat_requests, "the LLM drafted"
    assert body["verdict"] == "abstained" and body["citations"] == [], body
    assert "solar" not in body["answer"]
    assert body["abstain_reason"]["code"] == "not_answered"
    record = _record(body)
    assert record.provider == llm.provider_name and "solar pump" in record.draft
    assert record.abstain_reason == "not_answered"


@pytest.mark.django_db
def test_answerable__a_streamed_llm_answer_from_its_own_knowledge_sends_no_token_of_it(garden, llm):
    llm.reply("Yes, the barrel ships with a quiet solar pump that waters your lawn automatically [1].")

    response = garden.post(
        CHAT,
        {"question": "Does the rain barrel come with a solar pump?", "product": "rain-barrel"},
        format="json",
        HTTP_ACCEPT="text/event-stream",
    )

    events = sse_events(response)
    kind, final = events[-1]
    tokens = "".join(data["text"] for k, data in events if k == "token")
    assert kind == "final" and final["verdict"] == "abstained" and "solar" not in tokens
    assert tokens == final["answer"] and final["abstain_reason"]["code"] == "not_answered"
    assert _record(final).abstain_reason == "not_answered"


@pytest.mark.django_db
def test_answerable__an_llm_answer_its_cited_passage_states_is_served(garden, llm):
    llm.reply()
    llm.script(_citing("recycled plastic", "The rain barrel is made of recycled plastic [{n}]."))

    body = _chat(garden, "What is the rain barrel made of?", product="rain-barrel")

    assert body["verdict"] == "verified", body
    assert body["answer"] == "The rain barrel is made of recycled plastic [1]."


# Unanswered questions, for editors ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_unanswered_questions__editors_see_a_products_unanswered_questions_and_its_page_links_them(garden, client):
    unanswered = [
        _chat(garden, "Does the rain barrel come with a solar pump?", product="rain-barrel"),
        _chat(garden, "Is it a 65-gallon barrel?", product="rain-barrel"),
    ]
    answered = _chat(garden, "What is the rain barrel made of?", product="rain-barrel")
    catalog_wide = _chat(garden, "Do you sell garden gnomes?")  # abstains, about no product
    barrel = Product.objects.get(handle="rain-barrel")
    client.force_login(factories.staff_editor())

    listing = client.get(reverse("admin:assistant_unansweredquestion_changelist"))
    by_product = client.get(reverse("admin:assistant_unansweredquestion_changelist") + "?product=rain-barrel")
    page = client.get(reverse("admin:catalog_product_change", args=[barrel.pk]))

    assert listing.status_code == by_product.status_code == page.status_code == 200
    shown = {str(row.pk) for row in listing.context["cl"].result_list}
    assert shown == {body["answer_id"] for body in unanswered}
    assert answered["verdict"] != "abstained" and catalog_wide["answer_id"] not in shown
    html = listing.content.decode()
    assert "rain-barrel (2)" in html  # the product filter counts them
    assert reverse("admin:catalog_product_change", args=[barrel.pk]) in html
    assert "Does the rain barrel come with a solar pump?" in html and "not answered" in html
    assert len(by_product.context["cl"].result_list) == 2
    assert 'id="unanswered-questions">2 unanswered questions</a>' in page.content.decode()
    kettle = Product.objects.get(handle="camp-kettle")
    kettle_page = client.get(reverse("admin:catalog_product_change", args=[kettle.pk])).content.decode()
    assert ">0 unanswered questions</a>" in kettle_page
