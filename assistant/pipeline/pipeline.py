"""The assistant pipeline: guard, retrieve, re-rank, assemble, synthesize (or reuse), verify, record, respond.

Plain Python calling the steps in order. `answer` returns the whole verified answer; `stream` yields events
(token deltas of verified sentences, then citations, then the final verdict) and ends with the same
verdict `answer` gives for the same question, because both verify sentence by sentence with one checker.
"""

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from assistant.pipeline import answer_cache
from assistant.pipeline.capabilities import capability_config
from assistant.pipeline.guardrails import InputGuardrail
from assistant.pipeline.presenters import citation_payload, final_payload
from assistant.pipeline.recording import AnswerRecorder
from assistant.pipeline.retrieval import IdentityReranker
from assistant.pipeline.sentences import SentenceSplitter
from assistant.pipeline.structured import StructuredVerifier
from assistant.pipeline.synthesis import RouterSynthesizer
from assistant.pipeline.types import Ask, Draft, Guarded, Prompt, Retrieved, Turn, Verified
from assistant.pipeline.verification import CatalogVerifier
from assistant.providers.base import Route
from core.tenancy import Caller
from governance.models import AnswerRecord, Verdict

HISTORY_TURNS = 3  # earlier exchanges of a conversation loaded when the client sends only its id
REFUSAL = {
    "en": "I can only answer questions about our products, prices, stock and policies.",
    "de": "Ich beantworte nur Fragen zu unseren Produkten, Preisen, Beständen und Richtlinien.",
}


@dataclass(frozen=True)
class Answer:
    record: AnswerRecord
    verified: Verified
    retrieved: Retrieved | None


@dataclass
class _Run:
    """One request's state as it passes the steps (with the time each step took)."""

    caller: Caller
    guarded: Guarded
    timings: dict = field(default_factory=dict)
    retrieved: Retrieved | None = None
    prompt: Prompt | None = None
    route: Route | None = None
    cache_key: str = ""
    cached: Draft | None = None
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def step(self, name: str):
        began = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + (time.perf_counter() - began) * 1000


class AssistantPipeline:
    def __init__(self, *, guardrail=None, reranker=None, synthesizer=None, verifier=None, recorder=None):
        self.guardrail = guardrail or InputGuardrail()
        self.reranker = reranker or IdentityReranker()
        self.synthesizer = synthesizer or RouterSynthesizer()
        self.verifier = verifier or CatalogVerifier()
        self.structured = StructuredVerifier()
        self.recorder = recorder or AnswerRecorder()

    # The shared front half -------------------------------------------------------------------------------

    def _prepare(self, caller: Caller, ask: Ask) -> _Run:
        """Guard, retrieve, re-rank, assemble, look up the cache, route; raises GuardrailRejected, TargetNotFound."""
        began = time.perf_counter()
        ask = _with_history(caller, ask)
        guarded = self.guardrail.run(ask)
        run = _Run(caller, guarded, started=began)
        run.timings["guardrail"] = (time.perf_counter() - began) * 1000
        if guarded.refusal:
            return run
        config, assembler = capability_config(ask.capability, target_kind=ask.target_kind, label_set=ask.label_set)
        with run.step("retrieve"):
            retrieved = config.retriever.run(caller, guarded, dict(ask.filters))
        with run.step("rerank"):
            run.retrieved = self.reranker.run(retrieved)
        with run.step("prompt"):
            run.prompt = assembler.run(caller, guarded, run.retrieved)
        run.route = self.synthesizer.route(guarded, run.retrieved, caller.tenant_id)  # settings only, no I/O
        with run.step("cache"):
            run.cache_key = answer_cache.answer_cache_key(
                caller=caller,
                capability=ask.capability,
                locale=guarded.locale,
                question=guarded.question,
                context_hash=run.prompt.context_hash,
                served_by=_served_by(run.route),
            )
            run.cached = answer_cache.answer_cache_get(run.cache_key)
        return run

    def _finish(self, run: _Run, draft: Draft | None, verified: Verified) -> AnswerRecord:
        if (
            draft is not None
            and not draft.cache_hit
            and verified.verdict != Verdict.ABSTAINED
            and draft.text
            and draft.provider == _served_by(run.route).partition("/")[0]  # not a fallback's draft
        ):
            sources = {(c.chunk.source_kind, c.chunk.source_id) for c in verified.citations}
            answer_cache.answer_cache_put(run.cache_key, draft, sources)
        run.timings["total"] = (time.perf_counter() - run.started) * 1000
        with run.step("record"):
            record = self.recorder.run(
                run.caller,
                run.guarded,
                retrieved=run.retrieved,
                prompt=run.prompt,
                draft=draft,
                verified=verified,
                latency_ms=run.timings,
            )
        return record

    # JSON ------------------------------------------------------------------------------------------------

    def answer(self, caller: Caller, ask: Ask) -> Answer:
        run = self._prepare(caller, ask)
        if run.guarded.refusal:
            verified = _refused(run.guarded)
            return Answer(self._finish(run, None, verified), verified, None)
        draft = run.cached
        if draft is None:
            with run.step("synthesize"):
                draft = self.synthesizer.run(run.route, run.prompt, caller.tenant_id)
        with run.step("verify"):
            verified = self._verify(run, draft.text)
        return Answer(self._finish(run, draft, verified), verified, run.retrieved)

    def _verify(self, run: _Run, text: str) -> Verified:
        if run.prompt.request.json_schema is not None:
            checker = self.verifier.start(run.caller, run.prompt, run.guarded.locale)
            return self.structured.run(checker, run.guarded, text)
        return self.verifier.run(run.caller, run.prompt, run.guarded.locale, text)

    # Server-sent events ----------------------------------------------------------------------------------

    def stream(self, caller: Caller, ask: Ask) -> Iterator[tuple[str, dict]]:
        """Yield ("token", …) for verified sentences, then ("citation", …) each, then ("final", …)."""
        run = self._prepare(caller, ask)
        if run.guarded.refusal:
            verified = _refused(run.guarded)
            yield from _tokens(verified.answer)
            yield from self._close(run, None, verified)
            return
        if run.prompt.request.json_schema is not None:  # JSON is checked whole, then sent
            draft = run.cached or self.synthesizer.run(run.route, run.prompt, caller.tenant_id)
            with run.step("verify"):
                verified = self._verify(run, draft.text)
            yield from _tokens(_json_text(verified))
            yield from self._close(run, draft, verified)
            return
        yield from self._stream_sentences(run)

    def _stream_sentences(self, run: _Run) -> Iterator[tuple[str, dict]]:
        checker = self.verifier.start(run.caller, run.prompt, run.guarded.locale)
        splitter = SentenceSplitter()
        streamed = None if run.cached else self.synthesizer.stream(run.route, run.prompt, run.caller.tenant_id)
        began = time.perf_counter()
        for delta in _words(run.cached.text) if run.cached else streamed:
            for sentence in splitter.feed(delta):
                yield from self._emit(checker, sentence)
        for sentence in splitter.flush():
            yield from self._emit(checker, sentence)
        run.timings["synthesize+verify"] = (time.perf_counter() - began) * 1000
        verified = checker.finish()
        if verified.verdict == Verdict.ABSTAINED:
            yield from _tokens(verified.answer)
        yield from self._close(run, run.cached or streamed.draft(), verified)

    def _emit(self, checker, sentence: str) -> Iterator[tuple[str, dict]]:
        claim = checker.check(sentence)
        if claim.status != "removed":
            prefix = " " if any(c.status != "removed" for c in checker.claims[:-1]) else ""
            yield from _tokens(prefix + claim.text)

    def _close(self, run: _Run, draft: Draft | None, verified: Verified) -> Iterator[tuple[str, dict]]:
        record = self._finish(run, draft, verified)
        for citation in verified.citations:
            yield "citation", citation_payload(citation, record)
        yield "final", final_payload(record, verified, run.retrieved)


def _served_by(route: Route | None) -> str:
    """The provider/model a route calls ("-" when it abstains): part of the cache key."""
    if route is None or route.abstain or route.provider is None:
        return "-"
    return f"{route.provider.name}/{route.provider.model}"


def _with_history(caller: Caller, ask: Ask) -> Ask:
    """Give a chat turn its conversation id, and its earlier turns when the client sent only the id."""
    if ask.capability != "chat":
        return ask
    if ask.conversation_id is None:
        return replace(ask, conversation_id=uuid.uuid4())
    if ask.history:
        return ask
    earlier = (
        AnswerRecord.objects.filter(tenant_id=caller.tenant_id, conversation_id=ask.conversation_id)
        .order_by("-created_at")
        .values_list("question", "answer")[:HISTORY_TURNS]
    )
    turns = [t for question, answer in reversed(earlier) for t in (Turn("user", question), Turn("assistant", answer))]
    return replace(ask, history=tuple(turns))


def _refused(guarded: Guarded) -> Verified:
    message = REFUSAL.get(guarded.locale, REFUSAL["en"])
    return Verified(Verdict.REFUSED, message, (), (), (guarded.refusal,))


def _words(text: str) -> Iterator[str]:
    for match in re.finditer(r"\S+\s*", text):
        yield match.group()


def _tokens(text: str) -> Iterator[tuple[str, dict]]:
    for piece in re.finditer(r"\s*\S+", text):
        yield "token", {"text": piece.group()}


def _json_text(verified: Verified) -> str:
    return json.dumps(verified.output, ensure_ascii=False) if verified.output is not None else verified.answer
