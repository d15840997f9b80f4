"""The provider protocol: what every synthesizer (extractive, OpenAI-compatible HTTP, local LM) speaks.

A provider turns an assembled prompt over numbered passages into a draft. Drafts cite passages with
bracketed numbers (`[1]`, `[2][3]`) that refer to `ProviderRequest.passages`; the verifier, not the
provider, decides what reaches a client.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ProviderError(Exception):
    """The provider failed or timed out; the router counts it against the provider's circuit breaker."""


@dataclass(frozen=True)
class PromptPassage:
    number: int  # what the draft cites as [number]
    citation_id: str  # kind:key@version#anchor of the chunk version
    title: str
    text: str
    source: str = ""  # product | sku | policy, or a document's kind (manual, warranty, guide, review, qa)
    rating: int | None = None  # a review's stars (1 to 5), when it has them
    product_id: int | None = None  # the product the passage is about, if any
    relevance: float | None = None  # the relevance model's probability that it answers (None: not scored)


@dataclass(frozen=True)
class ProviderRequest:
    capability: str  # chat | search | summarize | classify | generate
    system: str  # the template's system part
    prompt: str  # the assembled user part: question, history, numbered passages
    question: str
    passages: tuple[PromptPassage, ...] = ()
    json_schema: dict | None = None  # classify / generate: the output must match it
    max_tokens: int = 512
    locale: str = "en"
    relevance_threshold: float | None = None  # a passage at or above it answers the question (None: no model)


@dataclass(frozen=True)
class Completion:
    text: str
    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    name: str  # stable id recorded on answers: "extractive", "openai", "local"
    model: str

    def complete(self, request: ProviderRequest) -> Completion:
        """Return the whole draft; raise ProviderError on failure or timeout."""

    def stream(self, request: ProviderRequest) -> Iterator[str]:
        """Yield the draft as text deltas; raise ProviderError on failure or timeout."""


@dataclass(frozen=True)
class Route:
    """The router's choice for one request: a provider, why, or an abstention before any synthesis."""

    provider: Provider | None
    reason: str
    abstain: bool = False
