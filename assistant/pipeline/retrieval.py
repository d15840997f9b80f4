"""Retrieval steps: hybrid search for questions, named sources for summaries and drafts, and re-ranking by
the relevance model.

Tenant, locale, entitlement and filters are applied inside `knowledge.retrieval.search` and the selectors,
so no step ever holds a passage the caller may not read.
"""

import logging
from dataclasses import replace

from assistant import customer_voice, selectors
from assistant.models import ANSWERING
from assistant.pipeline.types import Guarded, Passage, Retrieved, TargetNotFound
from assistant.text import content_terms
from core.tenancy import Caller
from knowledge.models import SourceKind
from knowledge.relevance import MAX_CANDIDATES, active_scorer
from knowledge.retrieval.request import MAX_PAGE_SIZE, QUERY_MAX, SearchRequest
from knowledge.retrieval.search import search
from knowledge.services.spaces import active_space, space_label

logger = logging.getLogger(__name__)


def _versions(reported: dict) -> dict:
    """Name the embedding space and re-ranking that produced the passages (as search reports them)."""
    ranking = "/".join(v for v in (reported.get("ranking"), reported.get("reranker")) if v)
    return {"embedding_space": reported.get("space") or space_label(active_space()), "reranker": ranking or "none"}


def coverage(question: str, passages: tuple[Passage, ...]) -> float:
    """Return the share of the question's content terms that occur in the passages (0..1)."""
    terms = content_terms(question)
    if not terms or not passages:
        return 0.0
    vocabulary = set()
    for passage in passages:
        vocabulary |= set(content_terms(f"{passage.chunk.title} {passage.chunk.text}"))
    return sum(1 for t in terms if t in vocabulary) / len(terms)  # both sides are stems already


DOCS_PER_PRODUCT = 2  # reviews and manuals of one product among the passages: many cannot crowd out its specs
# A product's own passages (heading, attributes, paragraphs, list items, in every locale) among the passages:
# enough for the ones that answer, while its SKUs, documents and the policies keep their place.
PASSAGES_PER_PRODUCT = 3
POOL_FACTOR = 3  # search results read per passage kept, so the caps still leave k passages


def diversified(hits, k: int) -> list:
    """Keep the best k hits with at most DOCS_PER_PRODUCT documents (reviews, manuals) and
    PASSAGES_PER_PRODUCT product passages per product."""
    kept, seen = [], {}
    caps = {SourceKind.DOCUMENT: DOCS_PER_PRODUCT, SourceKind.PRODUCT: PASSAGES_PER_PRODUCT}
    for hit in hits:
        chunk = hit.chunk
        if chunk.source_kind in caps and chunk.product_id:
            key = (chunk.source_kind, chunk.product_id)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > caps[chunk.source_kind]:
                continue
        kept.append(hit)
        if len(kept) == k:
            break
    return kept


CUSTOMER_DOCS_IN_SCOPE = 3  # reviews and Q&A answers among one product's passages


def within_product(hits, k: int) -> list:
    """Keep the best k hits of one product's scope: its own text, documents and the policies uncapped (the caps
    above keep products from crowding out each other; here there is one), its customer content (reviews, Q&A) at
    most CUSTOMER_DOCS_IN_SCOPE, so a flood of reviews cannot crowd out its specifications and the policies."""
    kinds = selectors.document_kinds(chunks=[hit.chunk for hit in hits])
    kept, taken = [], 0
    for hit in hits:
        if customer_voice.is_customer(kinds.get(hit.chunk.pk, ("", None))[0]):
            taken += 1
            if taken > CUSTOMER_DOCS_IN_SCOPE:
                continue
        kept.append(hit)
        if len(kept) == k:
            break
    return kept


def product_scope(guarded: Guarded) -> tuple[int, ...] | None:
    """The products a question may draw on: its product's alone in product scope (none when that product is no
    longer visible, leaving the policies), every visible one otherwise (None)."""
    context = guarded.ask.context
    if context is None or guarded.scope.kind != "product":
        return None
    return (context.product_id,) if context.product_id is not None else ()


class HybridRetriever:
    """Run the fused hybrid search for the question (and the previous user turn, for follow-ups), within the
    question's product and the policies when it is about one product."""

    def __init__(self, k: int = 8, history_turns: int = 1):
        self.k = k
        self.history_turns = history_turns

    def run(self, *, caller: Caller, guarded: Guarded) -> Retrieved:
        query = guarded.question
        previous = [t.content for t in guarded.ask.history if t.role == "user"][-self.history_turns :]
        if previous and len(content_terms(query)) < 4:  # "and in black?" needs what came before
            query = f"{previous[-1]} {query}"
        context = guarded.ask.context
        if context is not None and guarded.scope.kind == "catalog" and context.title:
            query = f"{context.title} {query}"  # "is there a quieter one?": one like this product
        scope = product_scope(guarded)
        request = SearchRequest(
            caller=caller,
            query=query[:QUERY_MAX],
            filters=guarded.ask.filters,
            locale=guarded.ask.locale,
            size=min(self.k * POOL_FACTOR, MAX_PAGE_SIZE),
            product_scope=scope,
            with_policies=scope is not None,
        )
        result = search(request)
        # Within one product the relevance model reads MAX_CANDIDATES of its passages and keeps the best k.
        candidates = max(self.k, MAX_CANDIDATES) if scope else self.k
        hits = within_product(result.hits, candidates) if scope else diversified(result.hits, self.k)
        passages = tuple(Passage(hit.chunk, hit.score, dict(hit.legs)) for hit in hits)
        return Retrieved(
            keep=self.k,
            passages=passages,
            confidence=coverage(guarded.question, passages),
            versions=_versions(result.versions),
            hits=tuple(hits[: self.k]),
            count=result.count,
        )


class TargetRetriever:
    """Read the passages of the product or document the request names (summaries, classification, drafts)."""

    def __init__(self, what: str):
        self.what = what  # reviews | document | product

    def run(self, *, caller: Caller, guarded: Guarded) -> Retrieved:
        ask = guarded.ask
        if ask.target_kind == "document":
            chunks = selectors.document_chunks(caller=caller, slug=ask.target)
        elif self.what == "reviews":
            chunks = selectors.product_review_chunks(caller=caller, handle=ask.target)
        else:
            chunks = selectors.product_chunks(caller=caller, handle=ask.target, locale=ask.locale)
        if chunks is None:
            raise TargetNotFound(f"No {ask.target_kind} {ask.target!r} for this caller.")
        passages = tuple(Passage(chunk, 1.0) for chunk in chunks)
        return Retrieved(
            passages=passages,
            confidence=1.0 if passages else 0.0,
            versions=_versions({}),
            count=len(passages),
        )


class TargetOrHybridRetriever:
    """Read the named product's passages when the request names one, else search for the question."""

    def __init__(self, target: TargetRetriever, otherwise: HybridRetriever):
        self.target, self.otherwise = target, otherwise

    def run(self, *, caller: Caller, guarded: Guarded) -> Retrieved:
        step = self.target if guarded.ask.target_kind == "product" else self.otherwise
        return step.run(caller=caller, guarded=guarded)


class IdentityReranker:
    """Keep retrieval's order (search has re-ranked already)."""

    version = "none"

    def run(self, *, guarded: Guarded, retrieved: Retrieved) -> Retrieved:
        return kept(retrieved)


class RelevanceReranker:
    """Re-order a question's first passages by the active relevance model's probability that each answers it.

        The first MAX_CANDIDATES passages (their text, as the model was trained on) are scored and sorted, the rest
        keep their place after them, and the first `keep` go on to the prompt; each scored passage keeps its
        probability and the answer its threshold, for the verifier. With no active model, or a locale the model was
        not trained for, the order stays and the versions say why (the
    verifier then checks the answer lexically). Only chat and search answer a question.
    """

    def run(self, *, guarded: Guarded, retrieved: Retrieved) -> Retrieved:
        if guarded.ask.capability not in ANSWERING or not retrieved.passages:
            return kept(retrieved)
        scorer = active_scorer()
        if scorer is None:
            return _relevance_version(retrieved, "lexical: no model")
        if guarded.locale not in scorer.locales:
            return _relevance_version(retrieved, f"lexical: {guarded.locale} not trained")
        head = retrieved.passages[:MAX_CANDIDATES]
        # A broken model folder must not fail the answer; ONNX Runtime raises its own exception classes.
        try:
            probabilities = scorer.score(guarded.question, [p.chunk.text for p in head])
        except Exception as exc:  # noqa: BLE001
            logger.warning("relevance model %s failed: %s; answering lexically", scorer.version, type(exc).__name__)
            return _relevance_version(retrieved, "lexical: model failed")
        scored = [replace(p, relevance=round(r, 6)) for p, r in zip(head, probabilities, strict=True)]
        scored.sort(key=lambda passage: -passage.relevance)  # stable: ties keep retrieval's order
        retrieved = replace(
            retrieved,
            passages=(*scored, *retrieved.passages[MAX_CANDIDATES:]),
            relevance_threshold=scorer.threshold,
            confidence=_confidence(scored[0].relevance, scorer.threshold, retrieved.confidence),
        )
        return _relevance_version(retrieved, scorer.version)


def _relevance_version(retrieved: Retrieved, relevance: str) -> Retrieved:
    """Name the relevance step in the versions, and after search's re-rankers (the record keeps both); keep the
    first `keep` passages for the prompt."""
    reranker = retrieved.versions.get("reranker") or "none"
    versions = {**retrieved.versions, "relevance": relevance, "reranker": f"{reranker}; relevance {relevance}"}
    return kept(replace(retrieved, versions=versions))


def _confidence(best: float, threshold: float, lexical: float) -> float:
    """How well the passages cover the question, by the model when it scored them: sure when the best passage
    reaches the threshold, else no surer than the words they share ("is it digital?" shares none with
    "display_type: analog", which answers it)."""
    if best >= threshold:
        return 1.0
    return min(lexical, best / threshold) if threshold > 0 else lexical


def kept(retrieved: Retrieved) -> Retrieved:
    """The first `keep` passages (all when retrieval read no more than the prompt takes)."""
    return replace(retrieved, passages=retrieved.passages[: retrieved.keep]) if retrieved.keep else retrieved
