"""The OpenAI-compatible provider against a real local HTTP server speaking the chat-completions protocol."""

import json
import logging

import pytest

from assistant.providers.base import ProviderError
from assistant.providers.openai_compat import OpenAICompatProvider, normalize_base_url, schema_name
from tests.assistant.fake_openai import FakeOpenAI, Reply, drill_request

SCHEMA = {
    "title": "Intent label",
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["product", "policy", "other"]}},
    "required": ["label"],
    "additionalProperties": False,
}


@pytest.fixture
def llm():
    with FakeOpenAI() as server:
        yield server


def make(server: FakeOpenAI, **options) -> OpenAICompatProvider:
    config = {"base_url": server.base_url, "model": "fake-gpt", "api_key": server.api_key, "timeout_s": 5.0}
    return OpenAICompatProvider(**{**config, **options})


def test_providers_openai__complete_returns_text_usage_and_sends_the_prompt(llm):
    llm.reply("The drill weighs 1.6 kg [1].", prompt_tokens=42, completion_tokens=9)
    request = drill_request()

    completion = make(llm).complete(request)

    assert completion.text == "The drill weighs 1.6 kg [1]."
    assert (completion.provider, completion.model) == ("openai", "fake-gpt")
    assert (completion.prompt_tokens, completion.completion_tokens) == (42, 9)
    assert completion.extra["finish_reason"] == "stop"
    sent = llm.chat_requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {llm.api_key}"
    assert sent.body["messages"] == [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.prompt},
    ]
    assert (sent.body["model"], sent.body["max_tokens"], sent.body["temperature"]) == ("fake-gpt", 128, 0.0)
    assert "stream" not in sent.body and "response_format" not in sent.body


def test_providers_openai__stream_yields_deltas_then_reports_usage(llm):
    llm.reply("The drill weighs 1.6 kg with its battery [1].", prompt_tokens=30)

    stream = make(llm).stream(drill_request())
    deltas = list(stream)

    assert len(deltas) == 9
    assert "".join(deltas) == "The drill weighs 1.6 kg with its battery [1]."
    assert (stream.prompt_tokens, stream.completion_tokens) == (30, 9)
    assert (stream.provider, stream.model, stream.extra["finish_reason"]) == ("openai", "fake-gpt", "stop")
    sent = llm.chat_requests[-1].body
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_providers_openai__schema_request_asks_for_json_schema_output(llm):
    llm.reply('{"label": "product"}')

    completion = make(llm).complete(drill_request(capability="classify", json_schema=SCHEMA))

    assert json.loads(completion.text) == {"label": "product"}
    response_format = llm.chat_requests[-1].body["response_format"]
    assert response_format == {
        "type": "json_schema",
        "json_schema": {"name": "Intent_label", "schema": SCHEMA, "strict": True},
    }


def test_providers_openai__json_object_mode_serves_a_server_without_json_schema():
    with FakeOpenAI(supports_json_schema=False) as llm:
        llm.reply('{"label": "policy"}')
        request = drill_request(capability="classify", json_schema=SCHEMA)

        with pytest.raises(ProviderError, match="HTTP 400: response_format.type 'json_schema' is not supported"):
            make(llm).complete(request)
        completion = make(llm, json_mode="json_object").complete(request)

    assert json.loads(completion.text) == {"label": "policy"}
    sent = llm.chat_requests[-1].body
    assert sent["response_format"] == {"type": "json_object"}
    assert json.dumps(SCHEMA, sort_keys=True) in sent["messages"][0]["content"]


@pytest.mark.parametrize(
    "reply, message",
    [
        (Reply(status=500), "HTTP 500: fake server error 500"),
        (Reply(status=429, body='{"error": {"message": "Rate limit reached"}}'), "HTTP 429: Rate limit reached"),
        (Reply(body="<html>bad gateway</html>"), "malformed response"),
        (Reply(body='{"choices": []}'), "malformed response"),
        (Reply(body='{"choices": [{"message": {"role": "assistant", "content": null}}]}'), "no text content"),
    ],
)
def test_providers_openai__complete_failures_raise_provider_error(llm, reply, message):
    llm.script(reply)

    with pytest.raises(ProviderError, match=message):
        make(llm).complete(drill_request())


@pytest.mark.parametrize(
    "reply, message",
    [
        (Reply(status=503), "HTTP 503"),
        (Reply(malformed_chunk_at=2), "malformed response"),
        (Reply(break_after=2), "could not reach the server"),
    ],
)
def test_providers_openai__stream_failures_raise_provider_error(llm, reply, message):
    llm.script(reply)
    received = []

    with pytest.raises(ProviderError, match=message):
        for delta in make(llm).stream(drill_request()):
            received.append(delta)

    assert "".join(received) in ("", "This is ")  # what arrived before the failure, nothing invented


def test_providers_openai__slow_server_times_out(llm):
    llm.script(Reply(delay_s=3), Reply(chunk_delay_s=3))
    provider = make(llm, timeout_s=0.3)

    with pytest.raises(ProviderError, match=r"timed out \(limit 0.3 s per wait\)"):
        provider.complete(drill_request())
    with pytest.raises(ProviderError, match="timed out"):
        list(provider.stream(drill_request()))


def test_providers_openai__stream_that_trickles_past_its_deadline_fails(llm):
    llm.reply("one two three four five six seven eight nine ten", chunk_delay_s=0.15)

    with pytest.raises(ProviderError, match="ran past its 0.3 s deadline"):
        list(make(llm, stream_deadline_s=0.3).stream(drill_request()))


def test_providers_openai__unreachable_server_raises_provider_error():
    with FakeOpenAI() as gone:
        base_url = gone.base_url  # the port is free again once the server stopped
    provider = OpenAICompatProvider(base_url=base_url, model="m", api_key="sk-unused-123456", connect_timeout_s=1)

    with pytest.raises(ProviderError, match="could not reach the server"):
        provider.complete(drill_request())


def test_providers_openai__key_never_appears_in_errors_or_logs(llm, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the client's and httpx's included
    leaky = json.dumps({"error": {"message": f"Incorrect API key provided: {llm.api_key}"}})
    llm.script(Reply(status=401, body=leaky), Reply(status=500))
    provider = make(llm)

    with pytest.raises(ProviderError) as echoed:
        provider.complete(drill_request())
    with pytest.raises(ProviderError) as failed:
        list(provider.stream(drill_request()))
    provider.complete(drill_request())

    assert "HTTP 401: Incorrect API key provided: ***" in str(echoed.value)
    assert llm.api_key not in str(echoed.value) + str(failed.value)
    assert "provider call failed" in caplog.text
    assert llm.api_key not in caplog.text


def test_providers_openai__rejected_key_is_reported_without_it(llm):
    provider = make(llm, api_key="sk-wrong-key-abcdef123456")

    with pytest.raises(ProviderError, match="HTTP 401") as error:
        provider.complete(drill_request())

    assert "sk-wrong-key-abcdef123456" not in str(error.value)


def test_providers_openai__bare_server_address_gets_the_api_version(llm):
    bare = llm.base_url.removesuffix("/v1")
    llm.reply("Bare address works [1].")

    completion = make(llm, base_url=bare).complete(drill_request())

    assert completion.text == "Bare address works [1]."
    assert normalize_base_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/v1"
    assert normalize_base_url("https://gateway.example/openai/v1") == "https://gateway.example/openai/v1"


def test_providers_openai__schema_names_are_what_openai_accepts():
    assert schema_name({"title": "Product description / draft"}) == "Product_description_draft"
    assert schema_name({}) == "answer"
    assert len(schema_name({"title": "x" * 100})) == 64


def test_providers_openai__adversarial_reply_fabricates_from_the_prompt(llm):
    llm.adversarial()

    text = make(llm).complete(drill_request()).text

    assert "BW-DR0001-18V-ZZ9" in text  # a real code with a suffix no catalog uses
    assert "€64.63" in text  # half the listed €129.00, plus change
    assert "9,999 units in stock" in text
    assert set(llm.invented) >= {"BW-DR0001-18V-ZZ9", "€64.63", "9,999 units"}
    assert all(item in text for item in llm.invented)
