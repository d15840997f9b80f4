"""The answer cache: hits are recorded, and an edit to a cited source invalidates the answers that cited it."""

from decimal import Decimal

import pytest

from catalog.models import PriceList
from catalog.services import price_set, stock_set
from governance.models import AnswerRecord
from knowledge.models import Chunk
from knowledge.services.generations import chunks_generation_bump
from knowledge.services.policies import policy_update
from tests.worker import wait_until

QUESTION = {"question": "How long do I have to return an item?"}


def _ask(shop):
    return shop.retail.post("/ai/v1/chat", QUESTION, format="json").json()


@pytest.mark.django_db
def test_answer_cache__a_repeated_question_is_a_recorded_hit(shop):
    first, second = _ask(shop), _ask(shop)

    assert not first["cache_hit"] and second["cache_hit"]
    assert second["answer"] == first["answer"] and second["verdict"] == first["verdict"]
    records = AnswerRecord.objects.filter(tenant=shop.tenant).order_by("created_at")
    assert [r.cache_hit for r in records] == [False, True]
    assert records[1].provider == "extractive"
    assert records[1].citations.count() == records[0].citations.count() > 0


@pytest.mark.django_db
def test_answer_cache__another_customer_group_does_not_share_entries(shop):
    _ask(shop)

    body = shop.b2b.post("/ai/v1/chat", QUESTION, format="json").json()

    assert not body["cache_hit"]


@pytest.mark.django_db
def test_answer_cache__retiring_a_cited_chunk_invalidates_the_entry(shop, django_capture_on_commit_callbacks):
    _ask(shop)
    cited = Chunk.objects.filter(source_kind="policy", source_key="returns-eu", retired_at__isnull=True)

    with django_capture_on_commit_callbacks(execute=True):
        chunks_generation_bump(list(cited.values_list("pk", flat=True)))

    assert not _ask(shop)["cache_hit"]


@pytest.mark.django_db(transaction=True)
def test_answer_cache__an_edit_to_a_cited_policy_changes_the_next_answer(shop, live_worker):
    assert "30 days" in _ask(shop)["answer"]
    assert _ask(shop)["cache_hit"]
    policy = shop.policies["returns-eu"]

    policy_update(policy, body=policy.current_version.body.replace("30 days", "45 days"))  # the worker re-indexes
    wait_until(
        lambda: Chunk.objects.filter(source_key="returns-eu", source_version=2, retired_at__isnull=True).exists(),
        timeout=60,
        message="the worker to index version 2",
    )

    body = _ask(shop)
    assert not body["cache_hit"]
    assert "45 days" in body["answer"] and "30 days" not in body["answer"]
    assert body["citations"][0]["citation_id"].startswith("policy:returns-eu@2#")


@pytest.mark.django_db
def test_answer_cache__a_draft_is_served_only_while_routing_points_at_its_provider(shop, settings):
    from tests.assistant.fake_openai import FakeOpenAI, provider_config

    extractive = [_ask(shop), _ask(shop)]
    assert extractive[1]["cache_hit"] and extractive[1]["provider"] == "extractive"
    with FakeOpenAI() as llm:
        llm.reply("You can return items within 30 days of delivery [1].")
        settings.ASSISTANT_PROVIDERS = {
            **settings.ASSISTANT_PROVIDERS,
            "llm-cache": provider_config(llm, name="llm-cache"),
        }
        settings.ASSISTANT_DEFAULT_PROVIDER = settings.ASSISTANT_ESCALATE_TO = "llm-cache"

        rerouted = [_ask(shop), _ask(shop)]

        settings.ASSISTANT_PROVIDERS = {
            **settings.ASSISTANT_PROVIDERS, "llm-cache": provider_config(llm, name="llm-cache", model="bigger-model")
        }  # fmt: skip
        other_model = _ask(shop)
        requests = [r.body["model"] for r in llm.chat_requests]
    settings.ASSISTANT_DEFAULT_PROVIDER = settings.ASSISTANT_ESCALATE_TO = "extractive"
    back = _ask(shop)

    assert (rerouted[0]["cache_hit"], rerouted[0]["provider"]) == (False, "llm-cache")  # not the extractive draft
    assert (rerouted[1]["cache_hit"], rerouted[1]["provider"]) == (True, "llm-cache")
    assert (other_model["cache_hit"], other_model["provider"]) == (False, "llm-cache")  # another model, another key
    assert requests == ["fake-gpt", "bigger-model"]
    assert (back["cache_hit"], back["provider"], back["answer"]) == (True, "extractive", extractive[0]["answer"])


@pytest.mark.django_db
def test_answer_cache__a_price_change_is_answered_with_the_new_price_not_from_the_cache(
    shop, django_capture_on_commit_callbacks
):
    """The key hashes the passages with their live prices: a new price is a new context, so a miss."""
    question = {"question": "How much does the Sonora ANC headphones cost?"}
    first = shop.retail.post("/ai/v1/chat", question, format="json").json()
    again = shop.retail.post("/ai/v1/chat", question, format="json").json()
    assert "199.00 EUR" in first["answer"] and again["cache_hit"]
    chunks = set(Chunk.objects.filter(tenant=shop.tenant).values_list("pk", "retired_at"))
    retail = PriceList.objects.get(tenant=shop.tenant, code="retail")

    with django_capture_on_commit_callbacks(execute=True):
        price_set(price_list=retail, sku=shop.skus["SON-ANC-100-BLK"], amount=Decimal("179.00"))

    after = shop.retail.post("/ai/v1/chat", question, format="json").json()
    assert not after["cache_hit"]
    assert "179.00 EUR" in after["answer"] and "199.00 EUR" not in after["answer"]
    assert set(Chunk.objects.filter(tenant=shop.tenant).values_list("pk", "retired_at")) == chunks  # no re-index


@pytest.mark.django_db
def test_answer_cache__a_stock_change_is_answered_with_the_new_stock_not_from_the_cache(
    shop, django_capture_on_commit_callbacks
):
    question = {"question": "Is the white Sonora ANC headphones in stock?"}
    first = shop.retail.post("/ai/v1/chat", question, format="json").json()
    assert "SON-ANC-100-WHT" in first["answer"] and "out of stock" in first["answer"]
    assert shop.retail.post("/ai/v1/chat", question, format="json").json()["cache_hit"]

    with django_capture_on_commit_callbacks(execute=True):
        stock_set(sku=shop.skus["SON-ANC-100-WHT"], warehouse=shop.warehouse, quantity=3)

    after = shop.retail.post("/ai/v1/chat", question, format="json").json()
    assert not after["cache_hit"]
    assert "SON-ANC-100-WHT" in after["answer"] and "out of stock" not in after["answer"]
