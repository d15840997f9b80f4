"""The built-in synthesizer: picks the passage sentences that best support the question and cites each.

Deterministic and offline: no model runs here, only term overlap between the question and the numbered
passages of the request. When the passages do not cover the question (a name or number it asks about
appears in none of them, or most of its words are missing), the draft is empty and the pipeline abstains.
A chat draft leads with the direct answer when the passages state it, and its support neither contradicts a
better source nor merely repeats the product's name (assistant.providers.answer_shape); a customer's words are
quoted as theirs (assistant.customer_voice).
"""

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from assistant import customer_voice
from assistant.providers import answer_shape as shape
from assistant.providers.base import Completion, PromptPassage, ProviderRequest
from assistant.text import (
    content_terms,
    normalize_measures,
    normalize_space,
    passage_units,
    question_entities,
    stem,
    words,
)

SENTENCES = {"chat": 3, "search": 3, "summarize": 4}  # how many sentences a draft holds at most
CANDIDATES = 3  # support scored per sentence served, so that some may go for contradicting better sources
PER_PASSAGE = 2  # sentences taken from one passage at most, so a draft is not one manual section
RELATIVE_FLOOR = 0.45  # a sentence scoring below this share of the best one is noise, not support
OFF_TOPIC = 0.3  # score factor for a sentence sharing none of the names the question asks about
NAME_WEIGHT = 0.5  # a product's name identifies what to talk about; the other words say what to tell
TITLE_WEIGHT = 0.6  # a term only in the passage's title (or citation key) supports its sentences less
LABEL_LINE_RE = re.compile(r"^(Brand|Category|Marke|Kategorie): ")
LABEL_TERMS = frozenset(stem(w) for w in ("brand", "category", "marke", "kategorie", "hersteller", "manufacturer"))
# With relevance scores: a sentence sharing the question's words gains a little over its passage's relevance,
# enough to choose among one passage's sentences, too little to outrank a passage the model prefers.
OVERLAP_BONUS = 0.01
COVERAGE_MIN = 0.5  # share of the question's content terms the passages must hold, else no draft
SKU_LINE_RE = re.compile(r"^SKU \S+$")
LOWERABLE = frozenset("the it its they this these those you your we our a an der die das es sie".split())
GENERIC = frozenset(stem(w) for w in "policy product products item items question info information detail".split())
# Question words that name a fact the passages state under another word.
SYNONYMS = {
    stem("cost"): ("price",),
    stem("costs"): ("price",),
    stem("expensive"): ("price",),
    stem("cheap"): ("price",),
    stem("kostet"): ("price", "preis"),
    stem("preis"): ("price",),
    stem("available"): ("stock",),
    stem("availability"): ("stock",),
    stem("lager"): ("stock",),
    stem("lieferbar"): ("stock",),
    stem("vorrätig"): ("stock",),
    stem("heavy"): ("weight",),
    stem("weigh"): ("weight",),
    stem("refund"): ("refund", "return"),
    stem("send"): ("return",),
    stem("delivery"): ("shipping", "dispatch"),
    stem("deliver"): ("shipping", "dispatch"),
    stem("ship"): ("shipping",),
    stem("lieferung"): ("versand",),
    stem("guarantee"): ("warranty",),
    stem("long"): ("days", "within", "months", "period"),
    stem("lange"): ("tagen", "innerhalb", "monate"),
    stem("versandkosten"): ("versand", "kosten"),
}


@dataclass(frozen=True)
class _Unit:
    passage: PromptPassage
    rank: int
    text: str
    terms: frozenset
    title_terms: frozenset


def _question_terms(question: str) -> list[str]:
    terms = content_terms(question)
    for term in list(terms):
        for extra in SYNONYMS.get(term, ()):
            if stem(extra) not in terms:
                terms.append(stem(extra))
    return terms


def _entities(question: str, locale: str) -> list[str]:
    """Return the names and numbers the question asks about: each must appear in some passage."""
    return question_entities(question, locale)


class ExtractiveProvider:
    name = "extractive"
    model = "extractive-v2"

    def complete(self, request: ProviderRequest) -> Completion:
        text = self._draft(request)
        return Completion(
            text=text,
            provider=self.name,
            model=self.model,
            prompt_tokens=len(words(request.system)) + len(words(request.prompt)),
            completion_tokens=len(words(text)),
        )

    def stream(self, request: ProviderRequest) -> Iterator[str]:
        """Yield the same draft as `complete`, a word (with its trailing space) at a time."""
        for match in re.finditer(r"\S+\s*", self._draft(request)):
            yield match.group()

    # Drafts ----------------------------------------------------------------------------------------------

    def _draft(self, request: ProviderRequest) -> str:
        if request.capability == "classify":
            return json.dumps(self._classify(request), ensure_ascii=False)
        if request.capability == "generate":
            return json.dumps(self._generate(request), ensure_ascii=False)
        units = self._units(request.passages)
        if request.capability == "summarize":
            chosen = self._central(units, SENTENCES["summarize"])
            return " ".join(_render(unit, request.locale) for unit in chosen)
        limit = SENTENCES.get(request.capability, 4)
        answering = _answering(units, request.relevance_threshold)
        if answering is None:
            support = self._supporting(request.question, request.locale, units, limit * CANDIDATES)
        else:  # a relevance model scored the passages: they answer whatever words they share with the question
            support = self._relevant(request.question, answering, limit * CANDIDATES)
            units = _best_passage(answering)  # the lead states what the most relevant passage says
        return self._answer(request, units, support, limit)

    def _answer(self, request: ProviderRequest, units: list[_Unit], support: list[_Unit], limit: int) -> str:
        """Lead a chat answer with the sentence that answers directly, then the best support that does not
        contradict a sentence with more authority."""
        about = shape.topic({t for t in _question_terms(request.question) if t not in GENERIC}, units)
        first = shape.lead(request.question, units, support, about) if request.capability == "chat" else None
        lead, answer = first or (None, None)
        rest = shape.consistent(support, about, shape.property_terms(request.question, units), lead)
        if lead is not None:
            rest = [u for u in rest if normalize_space(u.text.lower()) != normalize_space(lead.text.lower())]
        parts = [_render(lead, request.locale, answer)] if lead is not None else []
        parts += [_render(unit, request.locale) for unit in rest[: limit - len(parts)]]
        return " ".join(parts)

    def _units(self, passages) -> list[_Unit]:
        units = []
        for rank, passage in enumerate(passages):
            key = passage.citation_id.partition(":")[2].partition("@")[0]
            title_terms = frozenset(content_terms(f"{passage.title} {key.replace('-', ' ')}"))
            for text in passage_units(passage.text):
                if text.rstrip(":").strip() == passage.title.strip() or SKU_LINE_RE.match(text):
                    continue  # a heading repeating the title, or a bare "SKU <code>" line, says nothing
                if len(text.split()) < 3 and ":" not in text and passage.relevance is None:
                    continue  # a lone heading ("Support") is not an answer; a scored "Yes, it does." may be
                units.append(_Unit(passage, rank, text, frozenset(content_terms(text)), title_terms))
        return units

    def _supporting(self, question: str, locale: str, units: list[_Unit], limit: int) -> list[_Unit]:
        """Return the units that best support the question by term overlap, or none when the passages do not
        cover the question's names, numbers and most of its words."""
        terms = _question_terms(question)
        if not units or not terms or not _covers(question, locale, terms, units):
            return []
        terms += [t for t in shape.attribute_names(terms) if t not in terms]  # "schwer": the "Weight" line
        df = Counter(t for u in units for t in u.terms | u.title_terms)
        idf = {t: math.log(1 + len(units) / (1 + df[t])) for t in terms}
        wanted = {t for t in terms if t not in GENERIC}
        names = {stem(e) for e in _entities(question, locale)} & wanted
        labels_asked = bool(wanted & LABEL_TERMS)
        about = shape.topic(wanted, units)
        scored = []
        for unit in units:
            own = wanted & unit.terms
            if not own or (not labels_asked and LABEL_LINE_RE.match(unit.text)) or not shape.on_topic(unit, about):
                continue  # a sentence must itself say something asked about, beyond the product's name
            weight = {t: idf[t] * (NAME_WEIGHT if t in names else 1.0) for t in wanted}
            score = sum(weight[t] for t in own) + TITLE_WEIGHT * sum(
                weight[t] for t in (wanted & unit.title_terms) - own
            )
            if names and not names & (unit.terms | unit.title_terms):
                score *= OFF_TOPIC  # about something else than the product or policy the question names
            score *= 1.0 / (1.0 + 0.02 * len(unit.terms)) * (1.0 - 0.02 * min(unit.rank, 10))
            scored.append((score, unit))
        if not scored:
            return []
        scored.sort(key=lambda pair: (-pair[0], pair[1].rank, pair[1].text))
        best = scored[0][0]
        return _pick([u for s, u in scored if s >= RELATIVE_FLOOR * best], limit)

    def _relevant(self, question: str, answering: list[_Unit], limit: int) -> list[_Unit]:
        """Sentences of the passages the model scores as answering, by relevance then by term overlap; the most
        relevant passage gives one even when none of its words is the question's ("does it need batteries?"
        answered by "is_electric: false")."""
        if not answering:
            return []
        wanted = {t for t in _question_terms(question) if t not in GENERIC}
        about = shape.topic(wanted, answering)
        overlap = {id(u): len(wanted & u.terms) for u in answering}
        scored = [
            (u.passage.relevance + OVERLAP_BONUS * min(overlap[id(u)], 5), u)
            for u in answering
            if overlap[id(u)] and shape.on_topic(u, about)
        ]
        best = max(answering, key=lambda u: (u.passage.relevance, -u.rank))
        if not any(u.passage is best.passage for _, u in scored):
            scored.append((best.passage.relevance, best))  # its first sentence: the model says it answers
        scored.sort(key=lambda pair: (-pair[0], pair[1].rank, pair[1].text))
        return _pick([u for _, u in scored], limit)

    def _central(self, units: list[_Unit], limit: int) -> list[_Unit]:
        """Return the sentences that share the most terms with all the others (a summary of reviews or a document)."""
        frequency = Counter(t for u in units for t in u.terms)
        scored = [
            (sum(frequency[t] for t in u.terms) / (1 + len(u.terms)) ** 0.5, u) for u in units if len(u.terms) >= 3
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1].rank, pair[1].text))
        return _pick([u for _, u in scored], limit)

    # Structured output -----------------------------------------------------------------------------------

    def _classify(self, request: ProviderRequest) -> dict:
        """Pick the label whose cue words the question (and, weaker, the passages) share most."""
        options = (request.json_schema or {}).get("properties", {}).get("label", {}).get("oneOf", [])
        asked = set(content_terms(request.question))
        scores = {}
        for option in options:
            cues = set(content_terms(option.get("description", "")))
            support = [p.number for p in request.passages if cues & set(content_terms(f"{p.title} {p.text}"))]
            scores[option["const"]] = (2 * len(cues & asked) + 0.5 * len(support), support)
        if not scores:
            return {"label": "", "confidence": 0.0, "citations": []}
        label = max(scores, key=lambda name: (scores[name][0], name == options[-1]["const"]))
        total = sum(score for score, _ in scores.values()) or 1.0
        score, support = scores[label]
        if score == 0:
            label, support = options[-1]["const"], []  # the last label of a set is its fallback ("other", "none")
        return {"label": label, "confidence": round(score / total, 3), "citations": support[:3]}

    def _generate(self, request: ProviderRequest) -> dict:
        """Describe a product with its catalog passages only: its title, description and attribute values,
        each sentence and highlight citing the passage it comes from."""
        first = next((p for p in request.passages if p.citation_id.startswith("product:")), None)
        if first is None:
            return {"title": "", "description": "", "highlights": []}
        source = first.citation_id.partition("@")[0]
        attributes, prose = [], []
        for passage in (p for p in request.passages if p.citation_id.partition("@")[0] == source):
            for text in passage_units(passage.text):
                if text.startswith(("SKU ", "Brand:", "Category:")) or text.strip() == passage.title.strip():
                    continue  # live prices and stock, or the heading's title, brand and category
                attribute = re.match(r"^[^:]{2,40}: \S", text)
                (attributes if attribute else prose).append((text, passage.number))
        sentences = [f"{_end(text)[:-1]} [{number}]." for text, number in prose[:3]]
        highlights = [f"{text} [{number}]" for text, number in attributes]
        return {"title": first.title, "description": " ".join(sentences), "highlights": highlights[:8]}


def _covers(question: str, locale: str, terms: list[str], units: list[_Unit]) -> bool:
    """Say whether the passages hold every name or number the question asks about and most of its words."""
    vocabulary = set()
    for unit in units:
        vocabulary |= unit.terms | unit.title_terms
    haystack = normalize_measures(" ".join(f"{u.passage.title} {u.text}" for u in units)).lower()
    vocabulary |= set(content_terms(haystack))  # "55 gallon" as "55-gallon", "MX500" as "MX-500"
    for entity in _entities(question, locale):
        if stem(entity) not in vocabulary and entity not in haystack:
            return False
    # The question's own words: a synonym only helps cover the word it stands for.
    asked = content_terms(normalize_measures(question))
    wanted = [t for t in asked if t not in GENERIC] or asked or terms
    covered = sum(1 for t in wanted if t in vocabulary or any(stem(s) in vocabulary for s in SYNONYMS.get(t, ())))
    return covered / len(wanted) >= COVERAGE_MIN


def _answering(units: list[_Unit], threshold: float | None) -> list[_Unit] | None:
    """The units of the passages a relevance model scored at or above its threshold; None when none scored."""
    if threshold is None or all(u.passage.relevance is None for u in units):
        return None
    return [u for u in units if u.passage.relevance is not None and u.passage.relevance >= threshold]


def _best_passage(answering: list[_Unit]) -> list[_Unit]:
    """The units of the most relevant of the answering passages (none when none answers)."""
    if not answering:
        return []
    best = max(answering, key=lambda u: (u.passage.relevance, -u.rank)).passage
    return [u for u in answering if u.passage is best]


def _pick(units: list[_Unit], limit: int) -> list[_Unit]:
    chosen, per_passage, seen = [], Counter(), set()
    for unit in units:
        key = normalize_space(unit.text.lower())
        if key in seen or per_passage[unit.passage.number] >= PER_PASSAGE:
            continue
        chosen.append(unit)
        seen.add(key)
        per_passage[unit.passage.number] += 1
        if len(chosen) == limit:
            break
    return chosen


def _end(text: str) -> str:
    text = text.strip().rstrip(":;,")
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _render(unit: _Unit, locale: str, answer: bool | None = None) -> str:
    """One cited sentence: attribute lines say which product they describe, a customer's words say who says
    them, a yes/no answer comes first; the citation precedes the stop."""
    text, passage = unit.text, unit.passage
    customer = customer_voice.is_customer(passage.source)
    attribute = re.match(r"^[^:]{2,40}: \S", text) and not text.startswith("SKU ")
    attribute = attribute and not passage.citation_id.startswith("policy:")  # a clause names its section
    if attribute and not customer and not (unit.terms & unit.title_terms and len(unit.terms) > 4):
        text = f"{passage.title} – {text}"
    word = shape.yes_no(answer, locale) if answer is not None else ""
    if word and not re.match(rf"{word}\b", text, re.IGNORECASE):  # "No, it does not ..." says so already
        text = f"{word} – {_lower_first(text)}"
    if customer:
        text = customer_voice.attribute(text, passage.source, passage.rating, locale)
    text = _end(text)
    return f"{text[:-1]} [{passage.number}]{text[-1]}"


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first word when it is a function word ("The", "It"), never a name."""
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first.lower() in LOWERABLE else text
