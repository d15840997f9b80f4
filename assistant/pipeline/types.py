"""The frozen values passed between pipeline steps."""

import uuid
from dataclasses import dataclass, field

from assistant.models import PromptTemplateVersion
from assistant.providers.base import ProviderRequest
from assistant.selectors import SkuFact
from knowledge.models import Chunk
from knowledge.retrieval.request import SearchFilters


class GuardrailRejected(Exception):
    """The input cannot be processed; `errors` maps the field to the message (a 400 naming it)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class TargetNotFound(Exception):
    """What the request names (a product, SKU, document or conversation) does not exist for this caller (a 404).

    `field` names the request field, when there is one to name.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Turn:
    role: str  # user | assistant
    content: str


@dataclass(frozen=True)
class ProductContext:
    """The product a question is about: named by the request (a handle, or a SKU's product) or kept by the
    conversation. `product_id` is None when a conversation's product is no longer the caller's to see."""

    handle: str
    product_id: int | None
    title: str = ""


@dataclass(frozen=True)
class Scope:
    """Where retrieval looked: `product` (that product's content and the policies), `catalog` (everything the
    caller sees) or `document` (the one named). `reason` (code, message) says why a question about a product
    reached the catalog; `available` is False when the product is no longer visible."""

    kind: str
    product: str | None = None  # the handle
    reason: tuple[str, str] | None = None
    available: bool = True
    title: str = ""  # the product's title, to name it to the shopper


@dataclass(frozen=True)
class Ask:
    """What the client asked, validated by the view."""

    capability: str
    question: str
    locale: str | None = None  # requested; None: detected from the question
    conversation_id: uuid.UUID | None = None
    history: tuple[Turn, ...] = ()
    filters: SearchFilters = field(default_factory=SearchFilters)  # the search capability's product filters
    target_kind: str | None = None  # product | document (summarize, classify, generate)
    target: str | None = None
    label_set: str | None = None  # classify: intent | compliance
    product: str | None = None  # chat, search: the handle the client named
    sku: str | None = None  # chat, search: the SKU code the client named (its product is the context)
    context: ProductContext | None = None  # resolved from product, sku or the conversation


@dataclass(frozen=True)
class Guarded:
    ask: Ask
    question: str  # cleaned
    locale: str
    risk: str  # high | low
    risk_reasons: tuple[str, ...] = ()
    refusal: str | None = None  # why the guardrail refuses to answer (injection); None: go on
    scope: Scope = field(default_factory=lambda: Scope("catalog"))


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float
    legs: dict = field(default_factory=dict)
    relevance: float | None = None  # probability that it answers the question; None: not scored


@dataclass(frozen=True)
class Retrieved:
    passages: tuple[Passage, ...]
    confidence: float  # 0..1: how much of the question the passages cover
    versions: dict = field(default_factory=dict)  # embedding space, re-ranker
    hits: tuple = ()  # search: the page of SearchHits shown to the client
    count: int = 0
    relevance_threshold: float | None = None  # the relevance model's threshold; None: no model scored them
    keep: int | None = None  # passages for the prompt once re-ranked (retrieval may read more candidates)


@dataclass(frozen=True)
class Prompt:
    request: ProviderRequest
    template_version: PromptTemplateVersion
    chunks: dict  # passage number -> Chunk
    facts: dict[str, SkuFact]
    context_hash: str
    relevance: dict = field(default_factory=dict)  # passage number -> probability it answers (scored ones)
    relevance_threshold: float | None = None  # None: no model in force, the verifier checks lexically


@dataclass(frozen=True)
class Draft:
    text: str
    provider: str
    model: str
    route_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hit: bool = False


@dataclass(frozen=True)
class Claim:
    text: str  # as served (citation numbers renumbered for the client); the draft's sentence when removed
    drafted: str
    status: str  # kept | corrected | removed
    reasons: tuple[str, ...] = ()
    numbers: tuple[int, ...] = ()  # client citation numbers


@dataclass(frozen=True)
class Citation:
    number: int  # as the client sees it
    chunk: Chunk

    @property
    def citation_id(self) -> str:
        return self.chunk.citation_id


@dataclass(frozen=True)
class Verified:
    verdict: str
    answer: str
    claims: tuple[Claim, ...]
    citations: tuple[Citation, ...]
    unconfirmed: tuple[str, ...] = ()
    output: dict | None = None  # classify / generate
    abstain: str | None = None  # abstained: why, as a code (presenters.ABSTAIN_MESSAGES)
