"""An adversarial LLM over the real OpenAI protocol: nothing it invents reaches a client, and the record keeps it.

The fake server (tests/assistant/fake_openai.py) drafts with real passage numbers but invents a SKU code, a
code no catalog uses, a wrong price, a false stock level, an uncited sentence and a citation of a passage that
was never retrieved. Every answer is checked whole (JSON), token by token (SSE) and through its citations.
"""

import json
import re

import pytest

from assistant.text import CITATION_RE
from governance.models import AnswerRecord
from tests.assistant.fake_openai import FAKE_SKU, UNCITED_SENTENCE, Reply
from tests.assistant.sse import sse_events

pytestmark = pytest.mark.django_db

CHAT = "/ai/v1/chat"
QUESTIONS = [
    "How much does the Sonora ANC headphones cost?",
    "Is the white Sonora ANC headphone in stock?",
    "How long do I have to return an item?",
    "What is the torque of the Boltwerk drill?",
]


def _assert_nothing_invented(text: str, invented: list[str]) -> None:
    leaked = [item for item in invented if item in text]
    assert not leaked, f"invented content reached the client: {leaked} in {text!r}"
    assert FAKE_SKU not in text and "-ZZ9" not in text and "9,999" not in text and "9999" not in text


def _assert_every_sentence_cited(answer: str, verdict: str, citations: list[dict]) -> None:
    if verdict == "abstained":
        assert citations == [] and not CITATION_RE.search(answer)
        return
    numbers = {c["number"] for c in citations}
    for sentence in re.split(r"(?<=[.!?\]])\s+(?=[A-Z])", answer):
        cited = {int(n) for n in CITATION_RE.findall(sentence)}
        assert cited and cited <= numbers, f"uncited or dangling sentence served: {sentence!r}"


def _assert_citations_were_retrieved(record: AnswerRecord, citations: list[dict]) -> None:
    retrieved = {row["citation_id"] for row in record.retrieved}
    assert {c["citation_id"] for c in citations} <= retrieved


def _assert_record_keeps_what_was_removed(record: AnswerRecord, invented: list[str], name: str) -> None:
    assert record.provider == name and record.model == "fake-gpt"
    assert record.draft and all(item in record.draft for item in (FAKE_SKU, UNCITED_SENTENCE))
    removed = list(record.claims.filter(status="removed").values_list("text", flat=True))
    assert any(FAKE_SKU in text for text in removed)
    assert any(UNCITED_SENTENCE in text for text in removed)
    assert any("[99]" in text for text in removed)  # a passage that was never retrieved
    assert record.unconfirmed and record.verdict in ("partial", "abstained")


@pytest.mark.parametrize("question", QUESTIONS)
def test_adversarial_chat__json_answers_carry_nothing_invented(shop, llm, question):
    llm.adversarial()

    response = shop.retail.post(CHAT, {"question": question}, format="json")

    body = response.json()
    assert response.status_code == 200, body
    record = AnswerRecord.objects.get(pk=body["answer_id"])
    assert llm.chat_requests, "the question never reached the adversarial provider"
    assert body["provider"] == llm.provider_name and not body["cache_hit"]
    _assert_nothing_invented(body["answer"], llm.invented)
    _assert_nothing_invented(json.dumps(body["citations"]), llm.invented)
    _assert_every_sentence_cited(body["answer"], body["verdict"], body["citations"])
    _assert_citations_were_retrieved(record, body["citations"])
    _assert_record_keeps_what_was_removed(record, llm.invented, llm.provider_name)


@pytest.mark.parametrize("question", QUESTIONS)
def test_adversarial_chat__no_sse_event_carries_anything_invented(shop, llm, question):
    llm.adversarial()

    events = sse_events(shop.retail.post(CHAT, {"question": question}, format="json", HTTP_ACCEPT="text/event-stream"))

    assert llm.chat_requests[-1].body.get("stream") is True
    tokens = [data["text"] for kind, data in events if kind == "token"]
    citations = [data for kind, data in events if kind == "citation"]
    kind, final = events[-1]
    assert kind == "final" and final["provider"] == llm.provider_name
    for token in tokens:
        _assert_nothing_invented(token, llm.invented)
    _assert_nothing_invented("".join(tokens), llm.invented)
    _assert_nothing_invented(json.dumps(citations), llm.invented)
    _assert_nothing_invented(final["answer"], llm.invented)
    assert "".join(tokens) == final["answer"]
    _assert_every_sentence_cited(final["answer"], final["verdict"], citations)
    record = AnswerRecord.objects.get(pk=final["answer_id"])
    _assert_citations_were_retrieved(record, citations)
    _assert_record_keeps_what_was_removed(record, llm.invented, llm.provider_name)


def test_adversarial_chat__a_wrong_price_is_corrected_to_the_callers_price_list(shop, llm):
    llm.adversarial()

    body = shop.b2b.post(CHAT, {"question": "How much are the black Sonora ANC headphones?"}, format="json").json()

    wrong = [item for item in llm.invented if "EUR" in item or "€" in item or "$" in item]
    assert wrong and not any(price in body["answer"] for price in wrong)
    assert "199.00" not in body["answer"]  # the retail price is not the business caller's either
    record = AnswerRecord.objects.get(pk=body["answer_id"])
    drafted = [c for c in record.claims.all() if any(price in c.drafted for price in wrong)]
    assert drafted and all(c.status in ("corrected", "removed") for c in drafted)
    assert all("159.00 EUR" in c.text for c in drafted if c.status == "corrected")


def test_adversarial_chat__a_sku_the_caller_may_not_see_is_removed(shop, llm):
    llm.reply("The BWK-DRL-200 drill is a great choice and costs 149.00 EUR [1]. The Sonora ANC is in stock [1].")

    body = shop.b2b.post(CHAT, {"question": "Which Sonora headphones do you have?"}, format="json").json()

    assert "BWK-DRL-200" not in body["answer"] and "149.00" not in body["answer"]
    record = AnswerRecord.objects.get(pk=body["answer_id"])
    removed = record.claims.get(status="removed")
    assert "BWK-DRL-200" in removed.text and "sku" in " ".join(removed.reasons)


def test_adversarial_chat__a_false_out_of_stock_claim_never_reaches_the_client(shop, llm):
    llm.reply("The SON-ANC-100-BLK is out of stock [1]. The SON-ANC-100-WHT has 40 units in stock [1].")

    body = shop.retail.post(CHAT, {"question": "Which Sonora ANC colours are in stock?"}, format="json").json()

    assert "SON-ANC-100-BLK is out of stock" not in body["answer"]
    assert "40 units" not in body["answer"]
    record = AnswerRecord.objects.get(pk=body["answer_id"])
    assert record.claims.exclude(status="kept").count() == 2  # both corrected from StockLevel, or removed


# Structured output: classify and generate ------------------------------------------------------------------


def _structured(shop, path, payload, draft: dict, llm):
    llm.script(Reply(text=json.dumps(draft)))
    response = shop.retail.post(path, payload, format="json")
    body = response.json()
    assert response.status_code == 200, body
    assert llm.chat_requests[-1].body.get("response_format", {}).get("type") == "json_schema"
    return body, AnswerRecord.objects.get(pk=body["answer_id"])


def test_adversarial_classify__a_label_outside_the_set_is_never_returned(shop, llm):
    draft = {"label": "free_money", "confidence": 0.99, "citations": [1]}

    body, record = _structured(
        shop, "/ai/v1/classify", {"text": "I want to send back my headphones and get a refund"}, draft, llm
    )

    assert "free_money" not in json.dumps(body)
    assert body["output"] is None and body["verdict"] == "abstained"
    assert "free_money" in record.draft and record.unconfirmed


def test_adversarial_classify__a_wrong_compliance_label_becomes_the_catalogs_own(shop, llm):
    draft = {"label": "hazardous", "confidence": 0.97, "citations": [1, 42]}

    body, record = _structured(
        shop, "/ai/v1/classify", {"label_set": "compliance", "product": "sonora-anc"}, draft, llm
    )

    assert body["output"]["label"] == "contains_batteries" and body["verdict"] == "corrected"
    assert body["output"]["citations"] == [1]  # passage 42 was never retrieved
    assert [c["number"] for c in body["citations"]] == [1]
    assert record.claims.get().drafted == "label: hazardous"


def test_adversarial_classify__a_label_with_extra_fields_is_rejected_by_the_schema(shop, llm):
    draft = {"label": "returns", "confidence": 0.9, "citations": [1], "note": "refund 500 EUR now"}

    body, _ = _structured(shop, "/ai/v1/classify", {"text": "Where do I send a return?"}, draft, llm)

    assert body["output"] is None and "500 EUR" not in json.dumps(body)


def test_adversarial_generate__invented_attribute_values_never_reach_the_description(shop, llm):
    # The drill's passages: [1] its heading, [2] its attributes, [3] its description, [4] its SKU.
    draft = {
        "title": "Boltwerk Titanium Drill X9000",
        "description": "A cordless hammer drill for masonry [3]. It delivers 95 Nm of torque [3]. "
        "Its battery lasts 12 hours on one charge [3]. It costs only 19.99 EUR [3].",
        "highlights": ["60 Nm of torque [2]", "120 Nm peak torque [2]", "Free lifetime warranty on every part"],
    }

    body, record = _structured(shop, "/ai/v1/generate", {"product": "boltwerk-drill"}, draft, llm)

    served = json.dumps(body["output"])
    for invented in ("Titanium", "X9000", "95 Nm", "12 hours", "19.99", "120 Nm", "lifetime"):
        assert invented not in served, invented
    assert body["output"]["title"] == "Boltwerk Cordless Hammer Drill"
    assert "A cordless hammer drill for masonry [1]." in body["output"]["description"]
    assert body["output"]["highlights"] == ["60 Nm of torque [2]"]  # renumbered as cited: description first
    assert [c["citation_id"].rsplit("#", 1)[1] for c in body["citations"]] == ["p1", "attrs"]
    assert body["verdict"] == "partial"
    removed = set(record.claims.filter(status="removed").values_list("text", flat=True))
    assert {"It delivers 95 Nm of torque [3].", "120 Nm peak torque [2]"} <= removed
    assert "Free lifetime warranty on every part" in removed


def test_adversarial_generate__json_that_is_not_the_schema_abstains(shop, llm):
    llm.script(Reply(text='{"title": "X", "description": "Made of gold [1].", "highlights": "not a list"}'))

    body = shop.retail.post("/ai/v1/generate", {"product": "boltwerk-drill"}, format="json").json()

    assert body["verdict"] == "abstained" and body["output"] is None
    assert "gold" not in json.dumps(body)


def test_adversarial_chat__a_real_sku_cited_to_an_unrelated_passage_is_removed(shop, llm):
    llm.reply("You can return items within 30 days of delivery [1]. The BWK-DRL-200 costs 149.00 EUR [1].")

    body = shop.retail.post(CHAT, {"question": "How long do I have to return an item?"}, format="json").json()

    record = AnswerRecord.objects.get(pk=body["answer_id"])
    assert record.retrieved[0]["citation_id"].startswith("policy:returns-eu@")  # [1] is the returns policy
    assert body["answer"] == "You can return items within 30 days of delivery [1]."
    removed = record.claims.get(status="removed")
    assert "BWK-DRL-200" in removed.text and removed.reasons == ["misattributed"]
    assert "a product statement citing a passage about something else" in record.unconfirmed
