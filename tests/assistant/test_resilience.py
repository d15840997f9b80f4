"""A failing LLM behind POST /ai/v1/chat: the breaker opens, answers keep coming from the extractive fallback
(recorded as such), and once the server is healthy and the cool-down has passed the LLM serves again.

The LLM is the real OpenAI-compatible provider over the fake server; breaker state lives in the test Redis.
"""

import json
import uuid

import pytest

from assistant.providers import router
from governance.models import AnswerRecord
from tests.assistant.fake_openai import FakeOpenAI, Reply, provider_config
from tests.worker import wait_until

pytestmark = pytest.mark.django_db

CHAT = "/ai/v1/chat"
QUESTION = {"question": "How long do I have to return an item?"}
LLM_ANSWER = "You can return items within 30 days of delivery [1]."
COOLDOWN_S = 2.0  # long enough for the requests made while open, short enough for a test


@pytest.fixture
def llm(settings):
    """A fake LLM routed for every capability and escalation, under a fresh name (a fresh breaker)."""
    settings.ASSISTANT_BREAKER_FAILURES = 3
    settings.ASSISTANT_BREAKER_WINDOW_S = 60.0
    settings.ASSISTANT_BREAKER_COOLDOWN_S = COOLDOWN_S
    with FakeOpenAI() as server:
        name = f"flaky-{uuid.uuid4().hex[:8]}"
        config = provider_config(server, name=name, timeout_s=0.5)
        settings.ASSISTANT_PROVIDERS = {**settings.ASSISTANT_PROVIDERS, name: config}
        settings.ASSISTANT_DEFAULT_PROVIDER = settings.ASSISTANT_ESCALATE_TO = name
        server.provider_name = name
        yield server


def _ask(shop, **extra) -> tuple[dict, AnswerRecord]:
    response = shop.retail.post(CHAT, QUESTION, format="json", **extra)
    assert response.status_code == 200, response.content
    body = response.json()
    return body, AnswerRecord.objects.get(pk=body["answer_id"])


def _streamed(shop) -> tuple[list[tuple[str, dict]], AnswerRecord]:
    response = shop.retail.post(CHAT, QUESTION, format="json", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    events = []
    for block in b"".join(response.streaming_content).decode().strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events, AnswerRecord.objects.get(pk=events[-1][1]["answer_id"])


def test_resilience__breaker_opens_answers_fall_back_and_it_closes_after_recovery(shop, llm):
    name = llm.provider_name
    breaker = router.breaker_for(name)
    llm.script(Reply(status=500), Reply(delay_s=3), Reply(status=503))  # an error, a timeout, an error

    failing = [_ask(shop) for _ in range(3)]
    state_after_failures = breaker.state()
    while_open = _ask(shop)
    requests_while_open = len(llm.chat_requests)
    llm.reply(LLM_ANSWER)  # the server is healthy again
    wait_until(lambda: breaker.state() == "half-open")
    probe = _ask(shop)
    after = _ask(shop)

    for body, record in [*failing, while_open]:
        assert body["verdict"] == "verified" and body["answer"].startswith("You can return items within 30 days")
        assert body["provider"] == record.provider == "extractive" and record.model == "extractive-v2"
        assert record.route_reason.startswith(f"fallback from {name}: ")
        assert not body["cache_hit"]  # a fallback's draft is never cached
    assert "500" in failing[0][1].route_reason and "timed out" in failing[1][1].route_reason
    assert "503" in failing[2][1].route_reason
    assert state_after_failures == "open"
    assert f"the circuit breaker of {name} is open" in while_open[1].route_reason
    assert requests_while_open == 3  # nothing was sent while the breaker was open
    probe_body, probe_record = probe
    assert (probe_body["provider"], probe_body["answer"], probe_body["cache_hit"]) == (name, LLM_ANSWER, False)
    assert probe_record.model == "fake-gpt" and "fallback" not in probe_record.route_reason
    assert breaker.state() == "closed"
    assert after[0]["provider"] == name and after[0]["answer"] == LLM_ANSWER
    assert len(llm.chat_requests) == 4  # the probe; `after` is the probe's cached draft
    assert after[0]["cache_hit"]


def test_resilience__timeouts_alone_open_the_breaker(shop, llm):
    llm.reply(LLM_ANSWER, delay_s=3)  # every request outlasts the provider's 0.5 s timeout

    answers = [_ask(shop)[0] for _ in range(4)]

    assert [a["provider"] for a in answers] == ["extractive"] * 4
    assert all(a["verdict"] == "verified" for a in answers)
    assert router.breaker_for(llm.provider_name).state() == "open"
    assert len(llm.chat_requests) == 3


def test_resilience__a_stream_failing_before_its_first_token_is_answered_by_the_fallback(shop, llm):
    llm.script(Reply(status=500))

    events, record = _streamed(shop)

    kind, final = events[-1]
    tokens = "".join(data["text"] for k, data in events if k == "token")
    assert kind == "final" and final["verdict"] == "verified" and tokens == final["answer"]
    assert final["answer"].startswith("You can return items within 30 days")
    assert final["provider"] == record.provider == "extractive"
    assert record.route_reason.startswith(f"fallback from {llm.provider_name}: ") and "500" in record.route_reason
    assert [data["citation_id"] for k, data in events if k == "citation"][0].startswith("policy:returns-eu@")


def test_resilience__a_stream_while_the_breaker_is_open_sends_nothing_to_the_provider(shop, llm):
    breaker = router.breaker_for(llm.provider_name)
    for _ in range(3):
        breaker.record_failure()

    events, record = _streamed(shop)

    assert events[-1][1]["provider"] == "extractive" and events[-1][1]["verdict"] == "verified"
    assert "circuit breaker" in record.route_reason and "is open" in record.route_reason
    assert llm.chat_requests == []


def test_resilience__a_stream_breaking_midway_keeps_only_what_was_verified(shop, llm):
    llm.script(Reply(text=f"{LLM_ANSWER} We refund within 14 days of receiving the returned item [1].", break_after=11))

    events, record = _streamed(shop)

    kind, final = events[-1]
    assert kind == "final" and final["provider"] == llm.provider_name
    assert final["answer"] == LLM_ANSWER  # the broken second sentence was never completed, so never sent
    assert "".join(data["text"] for k, data in events if k == "token") == LLM_ANSWER
    assert record.route_reason.startswith("error: ") and "stream broke" in record.route_reason
