"""PromptAssembler: the capability's current template filled with numbered passages and live catalog facts."""

import hashlib
import json
from collections.abc import Callable

from assistant import customer_voice
from assistant.pipeline.types import Ask, Guarded, Prompt, Retrieved
from assistant.providers.base import PromptPassage, ProviderRequest
from assistant.selectors import SkuFact, catalog_facts, document_kinds, price_list_names
from assistant.services.templates import prompt_template_current
from catalog.selectors import customer_group_name
from core.injection import passage_screen
from core.tenancy import Caller
from knowledge.models import SourceKind

FACT_SKUS_PER_PRODUCT = 6  # a product passage lists at most this many SKUs' prices (the demo's variant cap)


def money(amount, currency: str, locale: str) -> str:
    text = f"{amount:.2f}"
    return f"{text.replace('.', ',') if locale == 'de' else text} {currency}"


def fact_line(fact: SkuFact, locale: str) -> str:
    """State a SKU's price in the caller's lists and whether it is in stock, as the verifier reads them back."""
    prices = " / ".join(money(amount, currency, locale) for amount, currency in fact.prices)
    if locale == "de":
        stock = "auf Lager" if fact.in_stock else "nicht auf Lager"
        return f"SKU {fact.code}: Preis {prices or 'nicht gelistet'}; {stock}."
    stock = "in stock" if fact.in_stock else "out of stock"
    return f"SKU {fact.code}: price {prices or 'not listed'}; {stock}."


def passage_origin(passage: PromptPassage) -> str:
    """Say where a listed passage comes from: its citation ID, and for a customer's text who wrote it."""
    said = customer_voice.label(passage.source, passage.rating)
    return f"{passage.citation_id}; {said}" if said else passage.citation_id


def product_line(guarded: Guarded) -> str:
    """Name the product the question is about for the prompt (and say when it asks about others too)."""
    context = guarded.ask.context
    if context is None:
        return "no particular product"
    name = f"{context.title} ({context.handle})" if context.title else context.handle
    if guarded.scope.kind == "catalog":
        return f"{name}; the shopper asks about other products too"
    return name


class PromptAssembler:
    """Number the passages, append live prices and stock to catalog passages, fill the template."""

    def __init__(self, capability: str, json_schema: dict | Callable[[Ask], dict] | None = None, max_tokens: int = 512):
        self.capability = capability
        self.json_schema = json_schema  # the JSON the draft must match, or a function of the request giving it
        self.max_tokens = max_tokens

    def schema_for(self, ask: Ask) -> dict | None:
        return self.json_schema(ask) if callable(self.json_schema) else self.json_schema

    def run(self, *, caller: Caller, guarded: Guarded, retrieved: Retrieved) -> Prompt:
        version = prompt_template_current(self.capability)
        chunks = [p.chunk for p in retrieved.passages]
        facts = catalog_facts(
            caller=caller,
            product_ids={c.product_id for c in chunks if c.product_id and c.source_kind == SourceKind.PRODUCT},
            codes={c.source_key for c in chunks if c.source_kind == SourceKind.SKU},
        )
        by_product: dict[int, list[SkuFact]] = {}
        for fact in sorted(facts.values(), key=lambda f: f.code):
            by_product.setdefault(fact.product_id, []).append(fact)
        kinds = document_kinds(chunks=chunks)
        passages, priced = [], set()
        for number, passage in enumerate(retrieved.passages, 1):
            chunk = passage.chunk
            text = self._text(chunk, facts, by_product if chunk.product_id not in priced else {}, guarded)
            if chunk.source_kind == SourceKind.PRODUCT:
                priced.add(chunk.product_id)  # prices once per product, on its best-ranked passage
            source, rating = kinds.get(chunk.pk, (chunk.source_kind, None))
            passages.append(
                PromptPassage(
                    number, chunk.citation_id, chunk.title, text, source, rating, chunk.product_id, passage.relevance
                )
            )
        listing = "\n\n".join(f"[{p.number}] {p.title} ({passage_origin(p)})\n{p.text}" for p in passages)
        history = "\n".join(f"{t.role}: {t.content}" for t in guarded.ask.history) or "(none)"
        values = dict(
            question=guarded.question,
            history=history,
            passages=listing or "(no passages)",
            locale=guarded.locale,
            customer_group=customer_group_name(caller=caller),
            price_list=price_list_names(caller=caller),
            product=product_line(guarded),
        )
        request = ProviderRequest(
            capability=self.capability,
            system=version.system.format(**values),
            prompt=version.body.format(**values),
            question=guarded.question,
            passages=tuple(passages),
            json_schema=self.schema_for(guarded.ask),
            max_tokens=self.max_tokens,
            locale=guarded.locale,
            relevance_threshold=retrieved.relevance_threshold,
        )
        context = [self.capability, version.pk, guarded.ask.target, values["product"]]
        context.append([(p.citation_id, p.text) for p in passages])
        digest = hashlib.sha256(json.dumps(context, default=str).encode()).hexdigest()
        relevance = {n: p.relevance for n, p in enumerate(retrieved.passages, 1) if p.relevance is not None}
        return Prompt(
            request,
            version,
            dict(enumerate(chunks, 1)),
            facts,
            digest,
            relevance=relevance,
            relevance_threshold=retrieved.relevance_threshold,
        )

    def _text(self, chunk, facts: dict[str, SkuFact], by_product: dict[int, list[SkuFact]], guarded: Guarded) -> str:
        if chunk.source_kind == SourceKind.SKU and chunk.source_key in facts:
            lines = [fact_line(facts[chunk.source_key], guarded.locale)]
        elif chunk.source_kind == SourceKind.PRODUCT:
            lines = [fact_line(f, guarded.locale) for f in by_product.get(chunk.product_id, [])[:FACT_SKUS_PER_PRODUCT]]
        else:
            return passage_screen(chunk.text)  # editors' and customers' text: data, never instructions
        return "\n".join([chunk.text, *lines])
