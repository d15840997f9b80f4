"""The pipeline's roles. Each step is a small class with one keyword-only `run()` over frozen values.

A capability (capabilities.py) names one step per role; the JSON and the streaming paths run the same step
objects. A verifier's `run` is a generator: it yields each sentence's claim as soon as it is checked (so a
stream sends only verified sentences) and returns the verified answer; `verify_all()` drains it whole.
"""

from collections.abc import Generator, Iterable
from typing import Protocol

from assistant.pipeline.types import Ask, Claim, Draft, Guarded, Prompt, Retrieved, Verified
from assistant.providers.base import Route
from core.tenancy import Caller
from governance.models import AnswerRecord


class Guardrail(Protocol):
    def run(self, ask: Ask) -> Guarded:
        """Reject malformed input, classify risk, refuse injections, resolve the locale."""


class Retriever(Protocol):
    def run(self, *, caller: Caller, guarded: Guarded) -> Retrieved:
        """Return the passages the caller may read for the question (or the named source)."""


class Reranker(Protocol):
    def run(self, *, guarded: Guarded, retrieved: Retrieved) -> Retrieved:
        """Return the passages reordered for the question."""


class Assembler(Protocol):
    def run(self, *, caller: Caller, guarded: Guarded, retrieved: Retrieved) -> Prompt:
        """Return the provider request over numbered passages, with live catalog facts."""


class Router(Protocol):
    def run(self, *, guarded: Guarded, retrieved: Retrieved, tenant_id: int) -> Route:
        """Return the provider that should draft (or an abstaining route), from settings only."""


class DraftStream(Protocol):
    def __iter__(self): ...

    def draft(self) -> Draft:
        """Describe the streamed draft once its deltas are exhausted."""


class Synthesizer(Protocol):
    def run(self, *, route: Route, prompt: Prompt, tenant_id: int, stream: bool = False) -> Draft | DraftStream:
        """Return the routed provider's draft, or with `stream` its deltas."""


class Verifier(Protocol):
    def run(
        self, *, caller: Caller, guarded: Guarded, prompt: Prompt, draft: Iterable[str]
    ) -> Generator[Claim, None, Verified]:
        """Check the draft's text (an iterable of deltas); yield each claim when checked; return the answer."""


class Recorder(Protocol):
    def run(
        self,
        *,
        caller: Caller,
        guarded: Guarded,
        retrieved: Retrieved | None,
        prompt: Prompt | None,
        draft: Draft | None,
        verified: Verified,
        latency_ms: dict,
    ) -> AnswerRecord:
        """Keep the answer with its inputs, evidence, versions and timings."""


def verify_all(claims: Generator[Claim, None, Verified]) -> Verified:
    """Run a verifier's generator to its end and return the verified answer."""
    while True:
        try:
            next(claims)
        except StopIteration as done:
            return done.value
