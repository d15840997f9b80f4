"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, scripted by the test.

The one outside service the suite cannot run is a remote LLM; this stands in for it over real HTTP, so the
provider's client, SSE parsing, timeouts and error handling are the production code paths.

    with FakeOpenAI() as llm:                      # random port; llm.base_url ends with /v1
        llm.reply("The drill weighs 1.6 kg [1].")  # every request gets this answer (JSON or SSE)
        llm.script(Reply(status=500), Reply(delay_s=5))  # the next two requests, then the default again
        llm.adversarial()                          # invented SKUs, wrong prices, false stock, uncited text
        settings.ASSISTANT_PROVIDERS = {**settings.ASSISTANT_PROVIDERS, "openai": provider_config(llm)}
        llm.requests[-1].body["messages"]          # what the server received (headers too)
        llm.invented                               # the fabricated strings it sent, to assert on

`Reply.hold` (a threading.Event) keeps a request open until the test sets it; `wait_for_requests(n)` waits
until n requests arrived. Exiting the context releases every held request and stops the server.
"""

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TEXT = "This is a fake answer [1]."
UNCITED_SENTENCE = "Our store guarantees lifetime free returns on every order, no questions asked."
FAKE_SKU = "ZZFAKE-0000-X"
SKU_PATTERN = re.compile(r"\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)+\b")  # ACME-LT0001-16-SG, SON-ANC-100-BLK
PRICE_PATTERN = re.compile(
    r"(?P<cur>[$€£])\s?(?P<num>\d{1,3}(?:,\d{3})*(?:\.\d{2})?)|(?P<num2>\d+[.,]\d{2})\s?(?P<cur2>EUR|USD|€)"
)


@dataclass
class Reply:
    """What the server does with one request."""

    text: str = DEFAULT_TEXT
    status: int = 200
    body: str | None = None  # raw response body instead of a completion (error or malformed bodies)
    delay_s: float = 0.0  # before the response headers: a slow server, a timeout
    chunk_delay_s: float = 0.0  # between stream chunks: a stream that stalls
    malformed_chunk_at: int | None = None  # stream: chunk n (0-based delta) is not JSON
    break_after: int | None = None  # stream: drop the connection after n deltas, without [DONE]
    hold: threading.Event | None = None  # answer only once the test sets it
    prompt_tokens: int | None = None  # default: words in the messages
    completion_tokens: int | None = None  # default: deltas sent


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict = field(default_factory=dict)


def deltas_of(text: str) -> list[str]:
    """Split text into stream deltas the way servers do: words with their trailing whitespace."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


class FakeOpenAI:
    """Serve /v1/chat/completions and /v1/models on a random loopback port until the context exits."""

    def __init__(self, *, api_key: str = "sk-test-fake-0123456789abcdef", supports_json_schema: bool = True):
        self.api_key = api_key
        self.supports_json_schema = supports_json_schema
        self.model = "fake-gpt"
        self.requests: list[ReceivedRequest] = []
        self.invented: list[str] = []  # what adversarial replies fabricated
        self._default: Reply | Callable[[dict], Reply] = Reply()
        self._queue: list[Reply | Callable[[dict], Reply]] = []
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- scripting -------------------------------------------------------------------------------------
    def reply(self, text: str = DEFAULT_TEXT, **options) -> None:
        """Answer every later request with this reply."""
        with self._lock:
            self._default = Reply(text=text, **options)

    def script(self, *replies: Reply | Callable[[dict], Reply]) -> None:
        """Answer the next requests with these, in order, then with the default again."""
        with self._lock:
            self._queue.extend(replies)

    def adversarial(self) -> None:
        """Answer every later request with fabricated SKUs, wrong prices, false stock and uncited sentences."""
        with self._lock:
            self._default = self._adversarial_reply

    def wait_for_requests(self, count: int, timeout_s: float = 10.0) -> None:
        """Block until `count` chat requests have arrived; raise AssertionError when they do not."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while len(self.chat_requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.chat_requests)}")
                self._lock.wait(left)

    @property
    def chat_requests(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> "FakeOpenAI":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="fake-openai").start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()  # held and delayed requests return at once
        self._server.shutdown()
        self._server.server_close()

    # -- internals -------------------------------------------------------------------------------------
    def _next_reply(self, body: dict) -> Reply:
        with self._lock:
            plan = self._queue.pop(0) if self._queue else self._default
        return plan(body) if callable(plan) else plan

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _adversarial_reply(self, body: dict) -> Reply:
        text, invented = adversarial_text(body)
        with self._lock:
            self.invented.extend(invented)
        return Reply(text=text)


def _prompt_of(body: dict) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if isinstance(m, dict))


def adversarial_text(body: dict) -> tuple[str, list[str]]:
    """Return a draft that cites real passage numbers but states things no catalog holds, and those things."""
    prompt = _prompt_of(body)
    real_skus = [code for code in dict.fromkeys(SKU_PATTERN.findall(prompt)) if any(c.isdigit() for c in code)]
    sku = real_skus[0] if real_skus else "ACME-LT0001"
    fake_sku = f"{sku}-ZZ9"  # a real code with a suffix no catalog uses
    price = PRICE_PATTERN.search(prompt)
    wrong_price = "$1.99"
    if price:
        raw = (price.group("num") or price.group("num2")).replace(",", "")
        wrong = round(float(raw) / 2 + 0.13, 2)  # off by about half
        value = f"{wrong + 1 if wrong == float(raw) else wrong:.2f}"  # never the listed price itself
        wrong_price = f"{price.group('cur')}{value}" if price.group("cur") else f"{value} {price.group('cur2')}"
    sentences = [
        f"The {fake_sku} is the best match for you and ships today [1].",
        f"The {FAKE_SKU} is our recommended alternative [1].",
        f"The {sku} costs only {wrong_price} this week [1].",
        f"The {sku} has 9,999 units in stock right now [1].",
        UNCITED_SENTENCE,
        "Every order also includes a free 10-year extended warranty [99].",
    ]
    invented = [fake_sku, FAKE_SKU, wrong_price, "9,999 units", UNCITED_SENTENCE, "10-year extended warranty"]
    return " ".join(sentences), invented


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as real servers do

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self.fake._record(ReceivedRequest("GET", self.path, _headers(self)))
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": self.fake.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        self.fake._record(ReceivedRequest("POST", self.path, _headers(self), body))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        if self.fake.api_key and self.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
            return self._json(
                401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}}
            )
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and not self.fake.supports_json_schema:
            error = {"message": "response_format.type 'json_schema' is not supported", "type": "invalid_request_error"}
            return self._json(400, {"error": error})
        reply = self.fake._next_reply(body)
        if reply.hold is not None:
            while not reply.hold.is_set() and not self.fake._stopping.is_set():
                reply.hold.wait(0.05)
        if reply.delay_s:
            self.fake._sleep(reply.delay_s)
        if reply.status != 200 or reply.body is not None:
            return self._raw(reply.status, reply.body if reply.body is not None else _error_body(reply.status))
        if body.get("stream"):
            return self._stream(reply, body)
        self._json(200, _completion(self.fake.model, reply, body))

    def _json(self, status: int, payload: dict) -> None:
        self._raw(status, json.dumps(payload))

    def _raw(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
            self.close_connection = True

    def _stream(self, reply: Reply, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        model, created = self.fake.model, int(time.time())
        pieces = deltas_of(reply.text)

        def chunk(delta: dict, finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created}
            return json.dumps({**payload, "model": model, "choices": [choice]})

        try:
            self._event(chunk({"role": "assistant", "content": ""}))
            for n, piece in enumerate(pieces):
                if reply.break_after is not None and n >= reply.break_after:
                    self.close_connection = True
                    return  # no terminating chunk: the client sees a broken stream
                if reply.chunk_delay_s:
                    self.fake._sleep(reply.chunk_delay_s)
                self._event("{not json" if n == reply.malformed_chunk_at else chunk({"content": piece}))
            self._event(chunk({}, "stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = _usage(reply, body, len(pieces))
                meta = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created}
                self._event(json.dumps({**meta, "model": model, "choices": [], "usage": usage}))
            self._event("[DONE]")
            self._write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): nothing to do
            self.close_connection = True

    def _event(self, data: str) -> None:
        self._write_chunk(f"data: {data}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    return {name.lower(): value for name, value in handler.headers.items()}


def _usage(reply: Reply, body: dict, deltas: int) -> dict:
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else len(_prompt_of(body).split())
    completion = reply.completion_tokens if reply.completion_tokens is not None else deltas
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(model: str, reply: Reply, body: dict) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
        "usage": _usage(reply, body, len(deltas_of(reply.text))),
    }


def _error_body(status: int) -> str:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return json.dumps({"error": {"message": f"fake server error {status}", "type": kind}})


def provider_config(server: FakeOpenAI, *, name: str = "openai", **options) -> dict:
    """Return an ASSISTANT_PROVIDERS entry for the OpenAI-compatible provider pointed at `server`.

    settings.ASSISTANT_PROVIDERS = {**settings.ASSISTANT_PROVIDERS, "openai": provider_config(llm)}
    """
    config = {"base_url": server.base_url, "api_key": server.api_key, "model": server.model, "timeout_s": 2.0}
    return {"class": "assistant.providers.openai_compat.OpenAICompatProvider", "name": name, **config, **options}


def drill_request(**overrides):
    """Return a ProviderRequest whose one passage answers its question (so the extractive fallback drafts)."""
    from assistant.providers.base import PromptPassage, ProviderRequest

    passage = PromptPassage(
        number=1,
        citation_id="sku:BW-DR0001-18V@1#spec",
        title="Cordless drill 18 V",
        text="The cordless drill BW-DR0001-18V weighs 1.6 kg with its battery. It costs €129.00.",
    )
    question = "How much does the cordless drill weigh?"
    fields = {
        "capability": "chat",
        "system": "Answer only from the numbered passages and cite each sentence as [n].",
        "prompt": f"Question: {question}\n\n[1] {passage.title}\n{passage.text}",
        "question": question,
        "passages": (passage,),
        "max_tokens": 128,
    }
    return ProviderRequest(**{**fields, **overrides})
