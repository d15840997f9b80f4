"""The router: routing decisions, and calls behind breakers and bulkheads with the extractive fallback.

Remote providers are the real OpenAI-compatible provider over a local fake server; state is in the test Redis.
"""

import os
import random
import subprocess
import sys
import threading
import uuid

import pytest

from assistant.providers import router
from assistant.providers.base import ProviderError
from tests.assistant.fake_openai import FakeOpenAI, Reply, drill_request, provider_config
from tests.worker import wait_until

EXTRACTIVE_DRAFT = "The cordless drill BW-DR0001-18V weighs 1.6 kg with its battery [1]."


def add_remote(settings, server: FakeOpenAI, **options) -> str:
    """Configure a provider on `server` under a fresh name (fresh breaker state) and route to it."""
    name = f"llm-{uuid.uuid4().hex[:8]}"
    config = provider_config(server, name=name, timeout_s=0.5, **options)
    settings.ASSISTANT_PROVIDERS = {**settings.ASSISTANT_PROVIDERS, name: config}
    settings.ASSISTANT_DEFAULT_PROVIDER = settings.ASSISTANT_ESCALATE_TO = name
    return name


@pytest.fixture
def llm():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def remote(settings, llm):
    settings.ASSISTANT_BREAKER_FAILURES = 3
    settings.ASSISTANT_BREAKER_WINDOW_S = 60.0
    settings.ASSISTANT_BREAKER_COOLDOWN_S = 0.3
    settings.ASSISTANT_TENANT_CONCURRENCY = 2
    settings.ASSISTANT_BULKHEAD_LEASE_S = 30.0
    return add_remote(settings, llm)


@pytest.fixture
def tenant():
    return random.randrange(10**6, 10**9)


def ask(tenant_id, **request):
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant_id)
    return router.complete(decision, drill_request(**request), tenant_id=tenant_id)


# Routing decisions -----------------------------------------------------------------------------------------


def test_router__default_settings_route_everything_to_extractive():
    decisions = [
        router.route(capability=capability, risk=risk, confidence=0.9, tenant_id=1)
        for capability in router.CAPABILITIES
        for risk in router.RISKS
    ]

    assert {d.provider.name for d in decisions} == {"extractive"}
    assert not any(d.abstain for d in decisions)
    assert decisions[0].reason == "chat: extractive"
    assert decisions[1].reason == "chat: extractive (high risk; already the escalation target)"


def test_router__abstains_below_the_floor_of_its_risk_class(settings):
    settings.ASSISTANT_ABSTAIN_BELOW, settings.ASSISTANT_ABSTAIN_BELOW_HIGH_RISK = 0.1, 0.2

    weak_low = router.route(capability="chat", risk="low", confidence=0.05, tenant_id=1)
    fair_low = router.route(capability="chat", risk="low", confidence=0.15, tenant_id=1)
    fair_high = router.route(capability="chat", risk="high", confidence=0.15, tenant_id=1)

    assert weak_low.abstain and weak_low.provider is None
    assert weak_low.reason == "abstain: retrieval confidence 0.05 is below the low-risk floor 0.10"
    assert not fair_low.abstain and fair_low.provider.name == "extractive"
    assert fair_high.abstain and fair_high.reason.endswith("below the high-risk floor 0.20")


def test_router__capability_routes_and_escalation_on_risk_or_low_confidence(settings):
    remote = {"class": "assistant.providers.openai_compat.OpenAICompatProvider", "base_url": "http://127.0.0.1:9/v1"}
    settings.ASSISTANT_PROVIDERS = {
        **settings.ASSISTANT_PROVIDERS,
        "fast": {**remote, "name": "fast", "model": "small"},
        "strong": {**remote, "name": "strong", "model": "large"},
    }
    settings.ASSISTANT_ROUTES = {"chat": "fast"}
    settings.ASSISTANT_DEFAULT_PROVIDER, settings.ASSISTANT_ESCALATE_TO = "extractive", "strong"
    settings.ASSISTANT_ESCALATE_BELOW = 0.4

    def decide(capability, risk, confidence):
        decision = router.route(capability=capability, risk=risk, confidence=confidence, tenant_id=1)
        return decision.provider.name, decision.reason

    assert decide("chat", "low", 0.9) == ("fast", "chat: fast")
    assert decide("chat", "high", 0.9) == ("strong", "chat: high risk: fast -> strong")
    assert decide("chat", "low", 0.3) == ("strong", "chat: confidence 0.30 below 0.40: fast -> strong")
    assert decide("search", "low", 0.9) == ("extractive", "search: extractive")
    assert decide("search", "high", 0.3) == (
        "strong",
        "search: high risk and confidence 0.30 below 0.40: extractive -> strong",
    )


def test_router__unknown_risk_or_capability_is_refused():
    with pytest.raises(ValueError, match="unknown risk class 'medium'"):
        router.route(capability="chat", risk="medium", confidence=0.9, tenant_id=1)
    with pytest.raises(ValueError, match="unknown capability 'translate'"):
        router.route(capability="translate", risk="low", confidence=0.9, tenant_id=1)


def test_router__settings_refuse_a_route_to_an_unconfigured_provider():
    env = {**os.environ, "DJANGO_DEBUG": "1", "ASSISTANT_ROUTES": "chat=openai", "LLM_BASE_URL": "", "LLM_MODEL": ""}

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "routes to provider 'openai', which is not configured" in result.stderr


def test_router__abstaining_route_cannot_be_called():
    decision = router.route(capability="chat", risk="low", confidence=0.0, tenant_id=1)

    with pytest.raises(ProviderError, match="the route abstains"):
        router.complete(decision, drill_request(), tenant_id=1)


# Calls: breaker and fallback -------------------------------------------------------------------------------


def test_router__complete_is_served_by_the_routed_provider_and_frees_the_slot(remote, llm, tenant):
    llm.reply("The drill weighs 1.6 kg [1].")

    completion = ask(tenant)

    assert (completion.provider, completion.text) == (remote, "The drill weighs 1.6 kg [1].")
    assert "fallback_from" not in completion.extra
    assert router.bulkhead_for(tenant).in_use() == 0


def test_router__breaker_opens_answers_fall_back_then_closes_after_recovery(remote, llm, tenant):
    llm.script(Reply(status=500), Reply(delay_s=3), Reply(body="{not json"))  # an error, a timeout, garbage
    breaker = router.breaker_for(remote)

    failing = [ask(tenant) for _ in range(3)]
    assert breaker.state() == "open"
    while_open = ask(tenant)
    llm.reply("Recovered: the drill weighs 1.6 kg [1].")
    wait_until(lambda: breaker.state() == "half-open")
    probe = ask(tenant)
    after = ask(tenant)

    assert [c.provider for c in failing] == ["extractive"] * 3
    assert all(c.text == EXTRACTIVE_DRAFT and c.extra["fallback_from"] == remote for c in failing)
    assert "HTTP 500" in failing[0].extra["fallback_reason"]
    assert "timed out" in failing[1].extra["fallback_reason"]
    assert "malformed response" in failing[2].extra["fallback_reason"]
    assert while_open.provider == "extractive"
    assert while_open.extra["fallback_reason"] == f"the circuit breaker of {remote} is open"
    assert (probe.provider, probe.text) == (remote, "Recovered: the drill weighs 1.6 kg [1].")
    assert breaker.state() == "closed" and after.provider == remote
    assert len(llm.chat_requests) == 5  # nothing was sent while the breaker was open


def test_router__while_the_probe_runs_other_calls_fall_back(remote, llm, tenant):
    breaker = router.breaker_for(remote)
    for _ in range(3):
        breaker.record_failure()
    wait_until(lambda: breaker.state() == "half-open")
    release = threading.Event()
    llm.script(Reply(text="Probe answer [1].", hold=release))
    results = []
    probe = threading.Thread(target=lambda: results.append(ask(tenant)))

    probe.start()
    llm.wait_for_requests(1)
    meanwhile = ask(tenant)
    release.set()
    probe.join(10)

    assert meanwhile.provider == "extractive" and "is open" in meanwhile.extra["fallback_reason"]
    assert results[0].provider == remote and breaker.state() == "closed"


def test_router__one_failing_provider_leaves_another_untouched(settings, remote, llm, tenant):
    settings.ASSISTANT_BREAKER_COOLDOWN_S = 60.0
    llm.reply(status=500)
    for _ in range(3):
        ask(tenant)
    with FakeOpenAI() as healthy_server:
        healthy = add_remote(settings, healthy_server)
        healthy_server.reply("Healthy answer [1].")

        completion = ask(tenant)

    assert router.breaker_for(remote).state() == "open"
    assert router.breaker_for(healthy).state() == "closed"
    assert completion.provider == healthy


def test_router__redis_unreachable_answers_from_the_fallback(settings, remote, llm, tenant):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/1"}
    }

    completion = ask(tenant)

    assert completion.provider == "extractive"
    assert completion.extra["fallback_reason"] == "breaker and bulkhead state unavailable (ConnectionError)"
    assert llm.chat_requests == []


# Calls: bulkheads ------------------------------------------------------------------------------------------


def test_router__busy_tenant_gets_the_fallback_while_another_tenant_is_served(remote, llm, tenant):
    busy, other = tenant, tenant + 1
    release = threading.Event()
    llm.script(Reply(text="Slow [1].", hold=release), Reply(text="Slow [1].", hold=release))
    results = []
    held = [threading.Thread(target=lambda: results.append(ask(busy))) for _ in range(2)]
    for thread in held:
        thread.start()
    llm.wait_for_requests(2)  # both of the busy tenant's slots are taken by calls the server holds

    overflow = ask(busy)
    served = ask(other)
    release.set()
    for thread in held:
        thread.join(10)

    assert overflow.provider == "extractive"
    assert overflow.extra["fallback_reason"] == f"tenant {busy} is using all 2 of its provider slots"
    assert served.provider == remote and served.text == "This is a fake answer [1]."
    assert [c.provider for c in results] == [remote, remote]
    assert router.bulkhead_for(busy).in_use() == 0 and router.bulkhead_for(other).in_use() == 0


# Streams ---------------------------------------------------------------------------------------------------


def test_router__stream_is_relayed_with_usage_and_frees_the_slot(remote, llm, tenant):
    llm.reply("The drill weighs 1.6 kg [1].", prompt_tokens=31)
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant)

    stream = router.stream(decision, drill_request(), tenant_id=tenant)
    deltas = list(stream)

    assert "".join(deltas) == "The drill weighs 1.6 kg [1]."
    assert (stream.provider, stream.model, stream.prompt_tokens, stream.completion_tokens) == (
        remote,
        "fake-gpt",
        31,
        6,
    )
    assert router.bulkhead_for(tenant).in_use() == 0


def test_router__stream_failing_before_its_first_delta_falls_back(remote, llm, tenant):
    llm.reply(status=503)
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant)

    stream = router.stream(decision, drill_request(), tenant_id=tenant)
    text = "".join(stream)

    assert text == EXTRACTIVE_DRAFT
    assert (stream.provider, stream.extra["fallback_from"]) == ("extractive", remote)
    assert "HTTP 503" in stream.extra["fallback_reason"]
    assert router.bulkhead_for(tenant).in_use() == 0


def test_router__stream_breaking_midway_raises_and_counts_against_the_breaker(settings, remote, llm, tenant):
    settings.ASSISTANT_BREAKER_FAILURES = 1
    llm.reply("One two three four five [1].", break_after=2)
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant)
    received = []

    with pytest.raises(ProviderError, match="the stream broke after 8 characters had been sent"):
        for delta in router.stream(decision, drill_request(), tenant_id=tenant):
            received.append(delta)

    assert received == ["One ", "two "]  # no fallback text spliced onto a half-sent draft
    assert router.breaker_for(remote).state() == "open"
    assert router.bulkhead_for(tenant).in_use() == 0


def test_router__abandoned_stream_frees_its_slot(remote, llm, tenant):
    llm.reply("One two three four five [1].")
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant)

    stream = router.stream(decision, drill_request(), tenant_id=tenant)
    first = next(stream)
    held = router.bulkhead_for(tenant).in_use()
    stream.close()

    assert (first, held) == ("One ", 1)
    assert router.bulkhead_for(tenant).in_use() == 0
    assert router.breaker_for(remote).state() == "closed"


def test_router__extractive_route_streams_without_breaker_or_bulkhead(tenant):
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant)

    stream = router.stream(decision, drill_request(), tenant_id=tenant)

    assert "".join(stream) == EXTRACTIVE_DRAFT
    assert (stream.provider, stream.model) == ("extractive", "extractive-v2")
