"""A provider for any server that speaks OpenAI's chat-completions protocol: OpenAI, vLLM, Ollama, llama.cpp.

Uses the official `openai` client (its SSE parser included) with retries off: the router's circuit
breaker decides what a failure means, and a retry inside the client would hide failures from it and
hold a tenant's bulkhead slot for several timeouts. Every failure becomes a ProviderError whose message
names the provider and model but never the API key or the base URL (which may carry credentials).
"""

import json
import logging
import re
import time
from collections.abc import Iterator

import httpx2
import openai

from assistant.providers.base import Completion, ProviderError, ProviderRequest
from assistant.providers.streams import TextStream

logger = logging.getLogger(__name__)

JSON_MODES = ("json_schema", "json_object", "none")
ERROR_EXCERPT = 200  # characters of a server's error message kept in ProviderError


class OpenAICompatProvider:
    """Call `{base_url}/chat/completions`; `base_url` ends with the API version, e.g. `http://host:8000/v1`."""

    external = True  # prompts leave this machine: the router sends them with PII tokenized

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        name: str = "openai",
        timeout_s: float = 20.0,
        connect_timeout_s: float = 3.0,
        stream_deadline_s: float = 60.0,
        json_mode: str = "json_schema",
        json_strict: bool = True,
        temperature: float = 0.0,
    ):
        if not base_url or not model:
            raise ValueError("an OpenAI-compatible provider needs a base URL and a model")
        if json_mode not in JSON_MODES:
            raise ValueError(f"json_mode must be one of {', '.join(JSON_MODES)}, not {json_mode!r}")
        self.name = name
        self.model = model
        self.timeout_s = timeout_s
        self.stream_deadline_s = stream_deadline_s
        self.json_mode = json_mode
        self.json_strict = json_strict
        self.temperature = temperature
        self._secrets = [s for s in (api_key, base_url) if len(s) >= 6]  # a tiny "key" would scrub letters
        self._client = openai.OpenAI(
            base_url=normalize_base_url(base_url),
            api_key=api_key or "not-needed",  # local servers (vLLM, Ollama) ignore it; the client wants one
            timeout=httpx2.Timeout(timeout_s, connect=connect_timeout_s),
            max_retries=0,
        )

    # -- Provider ------------------------------------------------------------------------------------
    def complete(self, request: ProviderRequest) -> Completion:
        """Return the whole draft from one non-streaming call; raise ProviderError on any failure."""
        try:
            response = self._client.chat.completions.create(**self._arguments(request))
            choice = response.choices[0]
            text = choice.message.content
            usage = response.usage
        except Exception as exc:  # noqa: BLE001 - every failure, however odd, is the provider's failure
            raise self._error(exc) from None
        if not isinstance(text, str):
            raise ProviderError(f"{self.name} ({self.model}): the response has no text content")
        return Completion(
            text=text,
            provider=self.name,
            model=response.model or self.model,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            extra={"finish_reason": choice.finish_reason},
        )

    def stream(self, request: ProviderRequest) -> TextStream:
        """Yield text deltas as the server sends them; usage and finish reason are on the stream once done."""
        return TextStream(self.name, self.model, lambda out: self._deltas(request, out))

    # -- internals -------------------------------------------------------------------------------------
    def _deltas(self, request: ProviderRequest, out: TextStream) -> Iterator[str]:
        deadline = time.monotonic() + self.stream_deadline_s
        arguments = {**self._arguments(request), "stream": True, "stream_options": {"include_usage": True}}
        try:
            chunks = self._client.chat.completions.create(**arguments)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc) from None
        try:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                except Exception as exc:  # noqa: BLE001
                    raise self._error(exc) from None
                if time.monotonic() > deadline:
                    raise ProviderError(
                        f"{self.name} ({self.model}): the stream ran past its {self.stream_deadline_s:g} s deadline"
                    )
                delta = self._read_chunk(chunk, out)
                if delta:
                    yield delta
        finally:
            chunks.close()  # releases the connection when the consumer stops early

    def _read_chunk(self, chunk, out: TextStream) -> str:
        try:
            if chunk.model:
                out.model = chunk.model
            if chunk.usage is not None:
                out.prompt_tokens = chunk.usage.prompt_tokens or 0
                out.completion_tokens = chunk.usage.completion_tokens or 0
            if not chunk.choices:
                return ""
            choice = chunk.choices[0]
            if choice.finish_reason:
                out.extra["finish_reason"] = choice.finish_reason
            content = choice.delta.content if choice.delta is not None else None
        except (AttributeError, IndexError, TypeError) as exc:
            raise self._error(exc) from None
        if content is not None and not isinstance(content, str):
            raise ProviderError(f"{self.name} ({self.model}): a stream chunk has non-text content")
        return content or ""

    def _arguments(self, request: ProviderRequest) -> dict:
        system = request.system
        arguments: dict = {"model": self.model, "max_tokens": request.max_tokens, "temperature": self.temperature}
        if request.json_schema is not None:
            if self.json_mode == "json_schema":
                arguments["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema_name(request.json_schema),
                        "schema": request.json_schema,
                        "strict": self.json_strict,
                    },
                }
            else:  # the server cannot constrain to a schema: ask for it in words (and JSON syntax if it can)
                system = f"{system}\n\nReply with one JSON object matching this JSON schema:\n" + json.dumps(
                    request.json_schema, sort_keys=True
                )
                if self.json_mode == "json_object":
                    arguments["response_format"] = {"type": "json_object"}
        messages = [{"role": "user", "content": request.prompt}]
        if system:
            messages.insert(0, {"role": "system", "content": system})
        arguments["messages"] = messages
        return arguments

    def _error(self, exc: BaseException) -> ProviderError:
        who = f"{self.name} ({self.model})"
        if isinstance(exc, openai.APITimeoutError):
            message = f"{who}: timed out (limit {self.timeout_s:g} s per wait)"
        elif isinstance(exc, openai.APIConnectionError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "connection error"
            message = f"{who}: could not reach the server ({cause})"
        elif isinstance(exc, openai.APIStatusError):
            message = f"{who}: HTTP {exc.status_code}: {_server_message(exc)}"
        else:
            message = f"{who}: malformed response ({type(exc).__name__})"
        message = self._scrub(message)
        logger.warning("provider call failed: %s", message)
        return ProviderError(message)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _server_message(exc: "openai.APIStatusError") -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        text = error.get("message") if isinstance(error, dict) else str(error)
    else:
        text = str(body or exc.response.reason_phrase)
    return re.sub(r"\s+", " ", str(text))[:ERROR_EXCERPT]


def normalize_base_url(url: str) -> str:
    """Append `/v1` to a bare server address (`http://host:8000`); keep any explicit path as given."""
    url = url.rstrip("/")
    parsed = httpx2.URL(url)
    return f"{url}/v1" if parsed.path in ("", "/") else url


def schema_name(schema: dict) -> str:
    """Return the schema's title as the name OpenAI requires (letters, digits, _ and -; 64 at most)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", str(schema.get("title") or "answer")).strip("_")
    return (name or "answer")[:64]
