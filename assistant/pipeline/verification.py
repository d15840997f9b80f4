"""CatalogVerifier: check every sentence of a draft against the retrieved passages and the live catalog.

A sentence reaches the client only when it cites a retrieved, still-live passage, every SKU code in it is
one the caller may see, every price is the caller's price (else corrected or removed), every stock claim
matches StockLevel (else corrected or removed), every other figure appears in a cited passage, most of its
words are the cited passages' (a policy statement's more so), and the cited passages answer the question:
with a relevance model in force, at least one of them scores at or above its threshold; without one, they
hold every name, code and number the question asks about. Measures and codes are compared normalized
("55-gallon" is "55 gallon"). A sentence resting on customers' reviews or answers alone is served attributed
and never states a price or policy (assistant.pipeline.attribution). The same `SentenceChecker` runs on whole
drafts and, sentence by sentence, on streams, so streaming never bypasses a check.
"""

import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field

from assistant.customer_voice import statement
from assistant.models import ANSWERING
from assistant.pipeline import attribution
from assistant.pipeline import claims as find
from assistant.pipeline.prompting import money
from assistant.pipeline.sentences import SentenceSplitter
from assistant.pipeline.types import Citation, Claim, Guarded, Prompt, Verified
from assistant.selectors import SkuFact, catalog_facts
from assistant.text import (
    CITATION_RE,
    cited_numbers,
    content_terms,
    normalize_measures,
    normalize_space,
    question_entities,
    stem,
    strip_citations,
)
from core.tenancy import Caller
from governance.models import Verdict
from knowledge.models import Chunk, SourceKind

POLICY_SUPPORT_MIN = 0.6  # share of a policy sentence's terms its cited passages must contain
SUPPORT_MIN = 0.5  # share of any sentence's words (numbers aside) its cited passages must contain
PRICE_WORDS = frozenset(stem(w) for w in ("cost", "costs", "price", "priced", "kostet", "kosten", "preis"))
REASONS = {
    "citation": "a statement without a citation to a retrieved passage",
    "sku": "a SKU code that is not in the catalog for you",
    "price": "a price that could not be confirmed for your price list",
    "stock": "a stock statement that could not be confirmed",
    "figure": "a figure that is not in the cited passages",
    "policy": "a policy statement that the cited policy does not make",
    "outdated": "a statement citing a passage that has since changed",
    "misattributed": "a product statement citing a passage about something else",
    attribution.REASON: attribution.EXPLANATION,
    "unsupported": "a statement its cited passages do not make",
    "irrelevant": "a statement whose cited passages do not answer the question",
}
NOT_ANSWERED = {"irrelevant", "unsupported"}  # all removed for these: nothing retrieved answers the question
ABSTAIN = {
    "en": "I can't confirm an answer to that from our catalog and policies.",
    "de": "Das kann ich anhand unseres Katalogs und unserer Richtlinien nicht bestätigen.",
}
UNCONFIRMED = {"en": "Could not confirm: {}.", "de": "Nicht bestätigt: {}."}


@dataclass
class _Check:
    text: str
    reasons: list[str] = field(default_factory=list)
    corrected: bool = False

    def fail(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


class SentenceChecker:
    """Verify sentences one at a time for one prompt and caller; `finish()` returns the verified answer."""

    def __init__(self, caller: Caller, prompt: Prompt, locale: str, *, question: str | None = None, about: str = ""):
        """`question`: the question the draft answers (None: it answers none, e.g. a summary); `about`: the name
        of the product it is about, which a sentence's passages need not repeat."""
        self.caller, self.prompt, self.locale = caller, prompt, locale
        self.question = question
        self.entities = question_entities(question, locale) if question else []
        self.about = normalize_measures(about).lower()
        self.facts: dict[str, SkuFact] = dict(prompt.facts)
        ids = [chunk.pk for chunk in prompt.chunks.values()]
        self.live = set(Chunk.objects.filter(pk__in=ids, retired_at__isnull=True).values_list("pk", flat=True))
        self.texts = {p.number: attribution.evidence(p) for p in prompt.request.passages}
        self.everything = normalize_measures(" ".join(self.texts.values())).lower() if self.entities else ""
        self.claims: list[Claim] = []
        self.display: dict[int, int] = {}  # passage number -> number the client sees

    def check(self, sentence: str) -> Claim:
        """Return the sentence as it may be served (kept or corrected) or removed, with the reasons."""
        check = _Check(sentence)
        numbers = [n for n in dict.fromkeys(cited_numbers(sentence)) if n in self.prompt.chunks]
        if not numbers or not strip_citations(sentence).strip(" .!?"):
            check.fail("citation")
        elif not any(self.prompt.chunks[n].pk in self.live for n in numbers):
            check.fail("outdated")
        else:
            self._check_content(check, numbers)
            attribution.check(check, self.prompt.request.passages, numbers, self.locale)
        if not check.reasons and self.question is not None:
            self._check_answers(check, numbers)
        if check.reasons:
            claim = Claim(text=sentence, drafted=sentence, status="removed", reasons=tuple(check.reasons))
        else:
            text, shown = self._renumber(check.text, numbers)
            claim = Claim(text, sentence, "corrected" if check.corrected else "kept", (), shown)
        self.claims.append(claim)
        return claim

    def _check_content(self, check: _Check, numbers: list[int]) -> None:
        cited = normalize_space(" ".join(self.texts[n] for n in numbers))
        codes = find.codes_in(check.text)
        self._lookup(codes)
        # A code-shaped value the cited passage states ("AUS-8" steel, "EN-388") is an attribute, not a SKU;
        # a code neither known to the caller nor in the passage is invented, or not the caller's to see.
        if any(code not in self.facts and code not in cited for code in codes):
            check.fail("sku")
            return
        codes = [code for code in codes if code in self.facts]
        # A real SKU is only supported by a passage that names it or is about its product (a policy is not).
        products = {self.prompt.chunks[n].product_id for n in numbers}
        if any(code not in cited and self.facts[code].product_id not in products for code in codes):
            check.fail("misattributed")
            return
        entities = codes or self._cited_skus(numbers)
        self._check_prices(check, entities, cited)
        self._check_stock(check, entities, cited)
        if check.reasons:
            return
        spans = [(m.start, m.end) for m in find.prices_in(check.text)]
        spans += [(m.start, m.end) for m in find.stock_in(check.text)]
        allowed = find.figures_of(cited) | {
            find.normalize_number(f"{a}") for code in entities for a, _ in self.facts[code].prices
        }
        if find.figures_missing(find.figures_in(check.text, spans), allowed):
            check.fail("figure")
        elif find.POLICY_RE.search(check.text) and not self._supported(check.text, cited, POLICY_SUPPORT_MIN):
            check.fail("policy")
        elif not self._supported(statement(_without(check.text, spans)), cited, SUPPORT_MIN, figures=False):
            check.fail("unsupported")

    def _check_answers(self, check: _Check, numbers: list[int]) -> None:
        """Fail a sentence whose cited passages do not answer the question: by the relevance model when one
        scored them, else by the names, codes and numbers the question asks about."""
        threshold = self.prompt.relevance_threshold
        if threshold is not None:
            if not any(self.prompt.relevance.get(n, 0.0) >= threshold for n in numbers):
                check.fail("irrelevant")
            return
        cited = normalize_measures(" ".join(self.texts[n] for n in numbers)).lower()
        for entity in self.entities:
            # A number or code must be in the passages the sentence cites; a name ("Bitcoin", "CPU") in some
            # passage of the prompt at least, as a sentence about it may cite a passage that calls it otherwise.
            where = cited if any(c.isdigit() for c in entity) else self.everything
            if not (_mentions(where, entity) or _mentions(self.about, entity)):
                check.fail("irrelevant")
                return

    def _lookup(self, codes: list[str]) -> None:
        missing = [code for code in codes if code not in self.facts]
        if missing:
            self.facts.update(catalog_facts(caller=self.caller, codes=missing))

    def _cited_skus(self, numbers: list[int]) -> list[str]:
        """The SKUs a sentence without a code is about: those of the SKU or product passages it cites."""
        out = []
        for n in numbers:
            chunk = self.prompt.chunks[n]
            if chunk.source_kind == SourceKind.SKU and chunk.source_key in self.facts:
                out.append(chunk.source_key)
            elif chunk.source_kind == SourceKind.PRODUCT:
                out += sorted(c for c, f in self.facts.items() if f.product_id == chunk.product_id)
        return list(dict.fromkeys(out))

    def _check_prices(self, check: _Check, entities: list[str], cited: str) -> None:
        for mention in reversed(find.prices_in(check.text)):
            if not entities:
                if find.normalize_number(str(mention.amount)) not in find.numbers_of(cited):
                    check.fail("price")
                continue
            known = [(a, c) for code in entities for a, c in self.facts[code].prices if c == mention.currency]
            if any(a == mention.amount for a, _ in known):
                continue
            if len(entities) == 1 and len(known) == 1:
                fixed = money(known[0][0], known[0][1], self.locale)
                check.text = check.text[: mention.start] + fixed + check.text[mention.end :]
                check.corrected = True
            else:
                check.fail("price")

    def _check_stock(self, check: _Check, entities: list[str], cited: str) -> None:
        mentions = find.stock_in(check.text)
        for mention in reversed(mentions):
            phrase = check.text[mention.start : mention.end]
            if not entities:
                if phrase.lower() not in cited.lower():
                    check.fail("stock")
                continue
            totals = [self.facts[code].stock_total for code in entities]
            actual = any(totals)
            if mention.quantity is not None:
                if len(totals) == 1 and totals[0] == mention.quantity:
                    continue
            elif mention.in_stock == actual:
                continue
            if len(totals) != 1:
                check.fail("stock")
                continue
            check.text = (
                check.text[: mention.start] + self._stock_phrase(mention, totals[0]) + check.text[mention.end :]
            )
            check.corrected = True

    def _stock_phrase(self, mention: find.StockMention, total: int) -> str:
        if mention.quantity is not None:
            return str(total)
        if self.locale == "de":
            return "auf Lager" if total else "nicht auf Lager"
        return "in stock" if total else "out of stock"

    def _supported(self, sentence: str, cited: str, share: float, figures: bool = True) -> bool:
        """Say whether at least `share` of the sentence's words (measures normalized; without `figures`, its
        numbers and price words, which their own checks confirm) are the cited passages'."""
        terms = content_terms(normalize_measures(CITATION_RE.sub("", sentence)))
        if not figures:
            terms = [t for t in terms if not t[:1].isdigit() and t not in PRICE_WORDS]
        if not terms:
            return True
        vocabulary = set(content_terms(normalize_measures(cited)))
        return sum(1 for t in terms if t in vocabulary) / len(terms) >= share

    def _renumber(self, text: str, numbers: list[int]) -> tuple[str, tuple[int, ...]]:
        for n in numbers:
            self.display.setdefault(n, len(self.display) + 1)

        def shown(match):
            n = int(match.group(1))
            return f"[{self.display[n]}]" if n in self.display and n in numbers else ""

        return normalize_space(CITATION_RE.sub(shown, text)).replace(" .", "."), tuple(self.display[n] for n in numbers)

    def cite(self, numbers) -> tuple[int, ...]:
        """Register passage numbers cited outside a sentence (a label's evidence); return the client numbers."""
        valid = [n for n in dict.fromkeys(numbers) if isinstance(n, int) and n in self.prompt.chunks]
        for n in valid:
            self.display.setdefault(n, len(self.display) + 1)
        return tuple(self.display[n] for n in valid)

    def citations(self) -> tuple[Citation, ...]:
        return tuple(Citation(shown, self.prompt.chunks[n]) for n, shown in self.display.items())

    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(REASONS[r] for c in self.claims if c.status == "removed" for r in c.reasons))

    def finish(self) -> Verified:
        kept = [c for c in self.claims if c.status != "removed"]
        unconfirmed = self.unconfirmed()
        if not kept:
            removed = {reason for claim in self.claims for reason in claim.reasons}
            answered = self.question is None or (self.claims and not removed & NOT_ANSWERED)
            return Verified(
                Verdict.ABSTAINED,
                abstention(self.locale, unconfirmed),
                tuple(self.claims),
                (),
                unconfirmed,
                abstain=None if answered else "not_answered",
            )
        if len(kept) < len(self.claims):
            verdict = Verdict.PARTIAL
        elif any(c.status == "corrected" for c in kept):
            verdict = Verdict.CORRECTED
        else:
            verdict = Verdict.VERIFIED
        answer = " ".join(c.text for c in kept)
        return Verified(verdict, answer, tuple(self.claims), self.citations(), unconfirmed)


def abstention(locale: str, unconfirmed: tuple[str, ...]) -> str:
    message = ABSTAIN.get(locale, ABSTAIN["en"])
    if unconfirmed:
        message += " " + UNCONFIRMED.get(locale, UNCONFIRMED["en"]).format("; ".join(unconfirmed))
    return message


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans (prices, stock phrases: checked against the catalog) blanked out."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _mentions(text: str, entity: str) -> bool:
    """Say whether the text has the entity as a word, or a word starting with it ("Sonora's"), never as part of
    another number ("55" is not in "550" or "55.5")."""
    return bool(entity) and re.search(rf"(?<!\w){re.escape(entity)}(?!\d|[.,]\d)", text) is not None


def _about(guarded: Guarded) -> str:
    """The product the question is about, by title and handle ("" when none)."""
    context = guarded.ask.context
    return f"{context.title} {context.handle.replace('-', ' ')}" if context else ""


class CatalogVerifier:
    """Check a draft sentence by sentence as it arrives, whole or streamed (split the same way), then decide."""

    def run(
        self, *, caller: Caller, guarded: Guarded, prompt: Prompt, draft: Iterable[str]
    ) -> Generator[Claim, None, Verified]:
        checker = SentenceChecker(
            caller,
            prompt,
            guarded.locale,
            question=guarded.question if guarded.ask.capability in ANSWERING else None,
            about=_about(guarded),
        )
        splitter = SentenceSplitter()
        for delta in draft:
            for sentence in splitter.feed(delta):
                yield checker.check(sentence)
        for sentence in splitter.flush():
            yield checker.check(sentence)
        return checker.finish()
