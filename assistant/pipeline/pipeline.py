"""The assistant pipeline: resolve the context, guard, scope, retrieve, re-rank, assemble, synthesize (or reuse),
verify, record (and keep the conversation's turn), respond.

Plain Python calling the steps in order. `answer` returns the whole verified answer; `stream` yields events
(token deltas of verified sentences, then citations, then the final verdict) and ends with the same
verdict `answer` gives for the same question, because both verify sentence by sentence with one checker.
"""

import json
import re
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.db import transaction

from assistant.pipeline import answer_cache
from assistant.pipeline.capabilities import Capability, capability
from assistant.pipeline.context import ContextResolver
from assistant.pipeline.guardrails import InputGuardrail
from assistant.pipeline.presenters import abstain_code, citation_payload, final_payload
from assistant.pipeline.recording import AnswerRecorder
from assistant.pipeline.retrieval import RelevanceReranker
from assistant.pipeline.roles import Guardrail, Recorder, Reranker, Router, Synthesizer, verify_all
from assistant.pipeline.scope import scope_for
from assistant.pipeline.synthesis import ProviderRouter, RouterSynthesizer
from assistant.pipeline.types import Ask, Claim, Draft, Guarded, Prompt, Retrieved, Scope, Verified
from assistant.providers.base import Route
from assistant.services.conversations import conversation_turn_add
from core.tenancy import Caller
from governance.models import AnswerRecord, Verdict

REFUSAL = {
    "en": "I can only answer questions about our products, prices, stock and policies.",
    "de": "Ich beantworte nur Fragen zu unseren Produkten, Preisen, Beständen und Richtlinien.",
}


@dataclass(frozen=True)
class Answer:
    record: AnswerRecord
    verified: Verified
    retrieved: Retrieved | None
    scope: Scope


@dataclass
class _Run:
    """One request's state as it passes the steps (with the time each step took)."""

    caller: Caller
    guarded: Guarded
    capability: Capability | None = None
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
    """The steps every capability shares; retriever, assembler and verifier come from the capability."""

    def __init__(
        self,
        *,
        guardrail: Guardrail | None = None,
        reranker: Reranker | None = None,
        router: Router | None = None,
        synthesizer: Synthesizer | None = None,
        recorder: Recorder | None = None,
        context: ContextResolver | None = None,
    ):
        self.context = context or ContextResolver()
        self.guardrail = guardrail or InputGuardrail()
        self.reranker = reranker or RelevanceReranker()
        self.router = router or ProviderRouter()
        self.synthesizer = synthesizer or RouterSynthesizer()
        self.recorder = recorder or AnswerRecorder()

    # The shared front half -------------------------------------------------------------------------------

    def _prepare(self, caller: Caller, ask: Ask) -> _Run:
        """Resolve the context, guard, scope, retrieve, re-rank, assemble, look up the cache, route; raises
        GuardrailRejected, TargetNotFound."""
        began = time.perf_counter()
        ask = self.context.run(caller=caller, ask=ask)
        guarded = self.guardrail.run(ask)
        guarded = replace(guarded, scope=scope_for(ask, guarded.question))
        run = _Run(caller, guarded, capability(ask.capability), started=began)
        run.timings["guardrail"] = (time.perf_counter() - began) * 1000
        if guarded.refusal:
            return run
        with run.step("retrieve"):
            retrieved = run.capability.retriever.run(caller=caller, guarded=guarded)
        with run.step("rerank"):
            run.retrieved = self.reranker.run(guarded=guarded, retrieved=retrieved)
        with run.step("prompt"):
            run.prompt = run.capability.assembler.run(caller=caller, guarded=guarded, retrieved=run.retrieved)
        run.route = self.router.run(guarded=guarded, retrieved=run.retrieved, tenant_id=caller.tenant_id)
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
        route_reason = draft.route_reason if draft else ""
        verified = replace(verified, abstain=abstain_code(verified, run.retrieved, run.guarded.scope, route_reason))
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
        with run.step("record"), transaction.atomic():
            record = self.recorder.run(
                caller=run.caller,
                guarded=run.guarded,
                retrieved=run.retrieved,
                prompt=run.prompt,
                draft=draft,
                verified=verified,
                latency_ms=run.timings,
            )
            ask = run.guarded.ask
            if ask.capability == "chat":
                product_id = ask.context.product_id if ask.context else None
                conversation_turn_add(
                    caller=run.caller, conversation_id=ask.conversation_id, record=record, product_id=product_id
                )
        return record

    # JSON ------------------------------------------------------------------------------------------------

    def answer(self, caller: Caller, ask: Ask) -> Answer:
        run = self._prepare(caller, ask)
        if run.guarded.refusal:
            verified = _refused(run.guarded)
            return Answer(self._finish(run, None, verified), verified, None, run.guarded.scope)
        draft = run.cached
        if draft is None:
            with run.step("synthesize"):
                draft = self._draft(run)
        with run.step("verify"):
            result = verify_all(self._claims(run, [draft.text]))
        return Answer(self._finish(run, draft, result), result, run.retrieved, run.guarded.scope)

    def _draft(self, run: _Run, *, stream: bool = False):
        return self.synthesizer.run(route=run.route, prompt=run.prompt, tenant_id=run.caller.tenant_id, stream=stream)

    def _claims(self, run: _Run, draft) -> Iterator[Claim]:
        """The capability's verifier over `draft` (deltas): claims as checked, the verified answer at the end."""
        return run.capability.verifier.run(caller=run.caller, guarded=run.guarded, prompt=run.prompt, draft=draft)

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
            draft = run.cached or self._draft(run)
            with run.step("verify"):
                result = verify_all(self._claims(run, [draft.text]))
            yield from _tokens(_json_text(result))
            yield from self._close(run, draft, result)
            return
        yield from self._stream_sentences(run)

    def _stream_sentences(self, run: _Run) -> Iterator[tuple[str, dict]]:
        streamed = None if run.cached else self._draft(run, stream=True)
        began = time.perf_counter()
        result = yield from _verified_tokens(self._claims(run, _words(run.cached.text) if run.cached else streamed))
        run.timings["synthesize+verify"] = (time.perf_counter() - began) * 1000
        if result.verdict == Verdict.ABSTAINED:
            yield from _tokens(result.answer)
        yield from self._close(run, run.cached or streamed.draft(), result)

    def _close(self, run: _Run, draft: Draft | None, verified: Verified) -> Iterator[tuple[str, dict]]:
        record = self._finish(run, draft, verified)
        for citation in verified.citations:
            yield "citation", citation_payload(citation, record)
        yield "final", final_payload(record, verified, run.retrieved, run.guarded.scope)


def _verified_tokens(claims) -> Generator[tuple[str, dict], None, Verified]:
    """Send each sentence the verifier keeps as it is checked; return the verified answer."""
    shown = False
    while True:
        try:
            claim = next(claims)
        except StopIteration as done:
            return done.value
        if claim.status != "removed":
            yield from _tokens((" " if shown else "") + claim.text)
            shown = True


def _served_by(route: Route | None) -> str:
    """The provider/model a route calls ("-" when it abstains): part of the cache key."""
    if route is None or route.abstain or route.provider is None:
        return "-"
    return f"{route.provider.name}/{route.provider.model}"


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
