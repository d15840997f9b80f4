"""Rate plans in Redis: the 429 arrives at the plan's limit, not before, with Retry-After and the limit's name."""

import uuid

import pytest

from governance.models import AnswerRecord, RatePlan
from governance.ratelimit import usage_today
from tests import factories
from tests.assistant.fake_openai import FakeOpenAI, provider_config

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
QUESTION = {"question": "How long do I have to return an item?"}


def _keyed_tenant(**plan):
    tenant = factories.TenantFactory(slug=f"rl-{uuid.uuid4().hex[:6]}")
    if plan:
        RatePlan.objects.create(tenant=tenant, name="small", **plan)
    return tenant, factories.api_client(factories.api_key(tenant)[1])


def test_rate_limit__requests_per_minute_429_at_the_limit_not_before():
    tenant, client = _keyed_tenant(requests_per_minute=5)
    _, neighbour = _keyed_tenant(requests_per_minute=5)

    statuses = [client.get(URL).status_code for _ in range(5)]
    refused = client.get(URL)

    assert statuses == [200] * 5
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["limit"] == "requests_per_minute" and body["allowed"] == 5 and body["plan"] == "small"
    assert body["retry_after_s"] == int(refused["Retry-After"]) and "5 requests per minute" in body["detail"]
    assert neighbour.get(URL).status_code == 200  # one tenant's limit is its own


def test_rate_limit__a_tenant_without_a_plan_gets_the_default_from_settings(settings):
    settings.RATE_PLAN_DEFAULT = {**settings.RATE_PLAN_DEFAULT, "requests_per_minute": 3}
    _, client = _keyed_tenant()

    statuses = [client.get(URL).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert client.get(URL).json()["plan"] == "default"


def test_rate_limit__answers_per_day_429_at_the_limit_with_retry_after_until_midnight(shop):
    RatePlan.objects.create(tenant=shop.tenant, answers_per_day=2)

    statuses = [shop.retail.post("/ai/v1/chat", QUESTION, format="json").status_code for _ in range(2)]
    refused = shop.b2b.post("/ai/v1/chat", QUESTION, format="json")  # another key of the same tenant

    assert statuses == [200, 200]
    assert refused.status_code == 429 and refused.json()["limit"] == "answers_per_day"
    assert 1 <= int(refused["Retry-After"]) <= 86_400
    assert shop.retail.get(URL).status_code == 200  # reading the catalog is not an answer
    assert AnswerRecord.objects.filter(tenant=shop.tenant).count() == 2


def test_rate_limit__tokens_per_day_counted_from_the_answer_records(shop, settings):
    RatePlan.objects.create(tenant=shop.tenant, tokens_per_day=100)
    with FakeOpenAI() as llm:
        name = f"metered-{uuid.uuid4().hex[:8]}"
        settings.ASSISTANT_PROVIDERS = {**settings.ASSISTANT_PROVIDERS, name: provider_config(llm, name=name)}
        settings.ASSISTANT_DEFAULT_PROVIDER = settings.ASSISTANT_ESCALATE_TO = name
        llm.reply("You can return items within 30 days of delivery [1].", prompt_tokens=40, completion_tokens=20)

        first = shop.retail.post("/ai/v1/chat", {"question": "Can I return headphones?"}, format="json")
        second = shop.retail.post("/ai/v1/chat", {"question": "Can I return a drill?"}, format="json")
        refused = shop.retail.post("/ai/v1/chat", {"question": "Can I return a kettle?"}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    records = AnswerRecord.objects.filter(tenant=shop.tenant)
    spent = sum(r.prompt_tokens + r.completion_tokens for r in records)
    assert spent == 120 and usage_today(shop.tenant.pk)["tokens_per_day"] == 120
    assert refused.status_code == 429 and refused.json()["limit"] == "tokens_per_day"
    assert int(refused["Retry-After"]) >= 1 and records.count() == 2
