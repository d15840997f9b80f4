"""The shape of an extractive answer: the direct answer first, then support that neither strays nor contradicts.

- A question asking for an attribute ("How heavy is it?") leads with the passage line that states it
  ("Weight: 2.5 kg"), found by matching the question's words to the names of the passages' own "Name: value"
  lines; a yes/no question leads with "Yes" or "No" only when the shop's own passages state it one way.
- A sentence that shares no word with what the question asks, once the product's own name is set aside, is
  marketing copy, not support.
- Of two sentences giving different values for the same attribute (or yes and no for the same property), the
  one from the better-ranked passage with authority stays: the shop's text before a customer's.
"""

import re
from typing import Protocol

from assistant import customer_voice
from assistant.providers.base import PromptPassage
from assistant.text import content_terms, stem, words

YES_NO = {"en": ("Yes", "No"), "de": ("Ja", "Nein")}
YES_NO_QUESTION_RE = re.compile(
    r"^\s*(?:do|does|did|is|are|was|were|can|could|will|would|should|has|have|had|"
    r"hat|haben|ist|sind|kann|können|lässt|passt|funktioniert|wird|werden)\b",
    re.IGNORECASE,
)
NEGATION = frozenset(
    "not no never cannot can't won't isn't aren't doesn't don't didn't without nicht kein keine keinen keiner "
    "nie niemals ohne".split()
)
NEGATION_REACH = 4  # words before a property's word that a negation may stand at ("cannot be returned")
BOOLEAN = {"yes": True, "true": True, "ja": True, "no": False, "false": False, "nein": False}
ATTRIBUTE_RE = re.compile(r"^([^:]{2,40}): (\S.*?)\.?$")
VALUE_WORDS_MAX = 8  # a longer "Label: ..." line is a labelled sentence ("Note: ..."), not an attribute value
PREFIX_MIN = 4  # letters two stems must share when one begins the other ("weigh" and "weight")
# The adjective, verb or German noun a question asks with, and the attribute names that state its answer
# (catalog attribute names are the keys' words, often English under a German translation).
ASKED_AS = {
    stem(asked): tuple(stem(name) for name in names.split())
    for asked, names in (
        ("heavy", "weight"), ("light", "weight"), ("weigh", "weight"), ("wide", "width"), ("tall", "height"),
        ("high", "height"), ("deep", "depth"), ("big", "size"), ("large", "size"), ("small", "size"),
        ("color", "colour"), ("colors", "colour"), ("old", "age"), ("powerful", "power"), ("fast", "speed"),
        ("loud", "volume"), ("schwer", "gewicht weight"), ("wiegt", "gewicht weight"), ("gewicht", "weight"),
        ("breit", "breite width"), ("breite", "width"), ("hoch", "höhe height"), ("höhe", "height"),
        ("groß", "größe size"), ("größe", "size"), ("farbe", "colour color"), ("alt", "alter age"),
        ("alter", "age"), ("akku", "battery"), ("leistung", "power"), ("spannung", "voltage"),
        ("drehmoment", "torque"), ("kapazität", "capacity"),
    )
}  # fmt: skip
# Units a quantity is compared in: (dimension, factor to the dimension's base unit), longest spelling first.
UNITS = {
    "mg": ("mass", 0.001), "g": ("mass", 1), "kg": ("mass", 1000), "lb": ("mass", 453.6), "lbs": ("mass", 453.6),
    "oz": ("mass", 28.35), "mm": ("length", 0.001), "cm": ("length", 0.01), "m": ("length", 1),
    "km": ("length", 1000), "inch": ("length", 0.0254), "inches": ("length", 0.0254), "ml": ("volume", 0.001),
    "l": ("volume", 1), "w": ("power", 1), "kw": ("power", 1000), "v": ("voltage", 1), "mah": ("charge", 0.001),
    "ah": ("charge", 1), "wh": ("energy", 1), "kwh": ("energy", 1000), "s": ("time", 1), "sec": ("time", 1),
    "seconds": ("time", 1), "min": ("time", 60), "minutes": ("time", 60), "h": ("time", 3600),
    "hr": ("time", 3600), "hrs": ("time", 3600), "hour": ("time", 3600), "hours": ("time", 3600),
    "std": ("time", 3600), "stunden": ("time", 3600), "day": ("time", 86400), "days": ("time", 86400),
    "tage": ("time", 86400), "tagen": ("time", 86400), "week": ("time", 604800), "weeks": ("time", 604800),
    "month": ("time", 2.63e6), "months": ("time", 2.63e6), "monate": ("time", 2.63e6),
    "monaten": ("time", 2.63e6), "year": ("time", 3.156e7), "years": ("time", 3.156e7),
    "jahre": ("time", 3.156e7), "jahren": ("time", 3.156e7), "hz": ("frequency", 1), "khz": ("frequency", 1000),
    "db": ("loudness", 1), "nm": ("torque", 1), "rpm": ("speed", 1), "gb": ("data", 1), "tb": ("data", 1000),
}  # fmt: skip
QUANTITY_RE = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s?(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")(?![\w])",
    re.IGNORECASE,
)
SAME_VALUE = 0.01  # relative difference under which two quantities are the same value ("0.25 kg", "250 g")


class Unit(Protocol):
    """A passage sentence as the extractive provider scores it."""

    passage: PromptPassage
    rank: int
    text: str
    terms: frozenset


# Terms ----------------------------------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= PREFIX_MIN and long.startswith(short)


def _meets(terms, others) -> bool:
    return any(_same(a, b) for a in terms for b in others)


def name_terms(units: list[Unit]) -> frozenset:
    """The words of the products' names among the passages: they say which product, not what about it.

    A word that also names an attribute ("PEGI" in "Kingdoms of Ash, PEGI 3" beside "Pegi: 3") is a property."""
    titles = {u.passage.title for u in units if u.passage.source == "product"}
    properties = {t for u in units if (found := attribute(u)) for t in found[0]}
    return frozenset(t for title in titles for t in content_terms(title) if t not in properties)


def attribute_names(terms) -> list[str]:
    """The attribute names the question's adjectives, verbs or German nouns stand for ("heavy": weight)."""
    return list(dict.fromkeys(name for t in terms for name in ASKED_AS.get(t, ())))


def topic(wanted: set, units: list[Unit]) -> frozenset:
    """What the question asks about: its terms without the products' names, plus the attribute names its
    adjectives stand for ("heavy": weight). Empty when it asks about nothing but a product."""
    asked = set(wanted) - name_terms(units)
    return frozenset(asked | set(attribute_names(asked)))


def on_topic(unit: Unit, about: frozenset) -> bool:
    """Say whether the sentence shares a word with what the question asks (always, when it asks nothing more)."""
    return not about or _meets(unit.terms, about)


# Statements -----------------------------------------------------------------------------------------------


def attribute(unit: Unit) -> tuple[frozenset, str] | None:
    """Return (name terms, value) of a "Name: value" line in the shop's own text, else None."""
    if unit.passage.source in ("policy", "review", "qa") or unit.text.startswith("SKU "):
        return None  # a clause, a customer's opinion, or a "SKU ...: price" line (a live fact)
    match = ATTRIBUTE_RE.match(unit.text)
    if match is None or len(match.group(2).split()) > VALUE_WORDS_MAX:
        return None
    names = frozenset(content_terms(match.group(1)))
    return (names, match.group(2).strip()) if names else None


def quantities(text: str) -> dict[str, set[float]]:
    """Return {dimension: values in its base unit} of the measured quantities in the text ("2 kg", "30 hours")."""
    out: dict[str, set[float]] = {}
    for match in QUANTITY_RE.finditer(text):
        dimension, factor = UNITS[match.group(2).lower()]
        out.setdefault(dimension, set()).add(float(match.group(1).replace(",", ".")) * factor)
    return out


def _differ(a: set[float], b: set[float]) -> bool:
    return not any(abs(x - y) <= SAME_VALUE * max(abs(x), abs(y), 1e-9) for x in a for y in b)


def polarity(unit: Unit, prop: frozenset) -> bool | None:
    """Say whether the sentence affirms (True) or negates (False) the asked property, or None when it does not
    state it: a yes/no attribute named by the property, or a sentence holding every word of it."""
    found = attribute(unit)
    if found and _meets(found[0], prop) and found[1].lower() in BOOLEAN:
        return BOOLEAN[found[1].lower()]
    tokens = words(unit.text)
    stems = [stem(t) for t in tokens]
    if not prop or not all(any(_same(p, s) for s in stems) for p in prop):
        return None
    for i, s in enumerate(stems):
        if any(_same(p, s) for p in prop) and NEGATION & set(tokens[max(0, i - NEGATION_REACH) : i]):
            return False
    return True


def _same_subject(a: Unit, b: Unit) -> bool:
    """Two SKUs are variants that differ by design; two products are two things."""
    if a.passage.source == b.passage.source == "sku" and a.passage.number != b.passage.number:
        return False
    pa, pb = a.passage.product_id, b.passage.product_id
    return pa is None or pb is None or pa == pb


def contradict(a: Unit, b: Unit, about: frozenset, prop: frozenset) -> bool:
    """Say whether the two sentences give different values for one attribute, or yes and no for one property.

    Between two of the shop's own sentences only a "Name: value" line counts: two prose sentences with different
    figures usually speak of different things (a return window and a delivery time)."""
    if not _same_subject(a, b):
        return False
    fa, fb = attribute(a), attribute(b)
    if fa and fb:
        return fa[0] == fb[0] and _values_differ(fa[1], fb[1])
    customer = customer_voice.is_customer(a.passage.source) or customer_voice.is_customer(b.passage.source)
    qa, qb = quantities(a.text), quantities(b.text)
    measured = any(_differ(qa[d], qb[d]) for d in qa.keys() & qb.keys())
    if measured and (fa or fb):
        names, other = (fa or fb)[0], (b if fa else a)
        if _meets(names, other.terms) or (_meets(names, about) and _meets(other.terms, about)):
            return True
    elif measured and customer and _meets(a.terms & b.terms, about):
        return True
    if prop and (customer or fa or fb):
        pa, pb = polarity(a, prop), polarity(b, prop)
        return pa is not None and pb is not None and pa != pb
    return False


def _values_differ(a: str, b: str) -> bool:
    qa, qb = quantities(a), quantities(b)
    if qa and qa.keys() == qb.keys():
        return any(_differ(qa[d], qb[d]) for d in qa)
    return " ".join(a.lower().split()) != " ".join(b.lower().split())


def consistent(units: list[Unit], about: frozenset, prop: frozenset, first: Unit | None = None) -> list[Unit]:
    """Drop each sentence that contradicts one with more authority (the lead, then the shop's text before a
    customer's, then the better-ranked passage); the rest keep their order."""
    kept: list[Unit] = [first] if first is not None else []
    by_authority = sorted(units, key=lambda u: (customer_voice.is_customer(u.passage.source), u.rank))
    for unit in by_authority:
        if unit is not first and not any(contradict(unit, other, about, prop) for other in kept):
            kept.append(unit)
    return [u for u in units if u in kept and u is not first]


# The lead ---------------------------------------------------------------------------------------------------


def property_terms(question: str, units: list[Unit]) -> frozenset:
    """What a yes/no question asks to confirm: its own words without the products' names (empty for others)."""
    if not YES_NO_QUESTION_RE.match(question):
        return frozenset()
    return frozenset(content_terms(question)) - name_terms(units)


def _attribute_lead(units: list[Unit], about: frozenset) -> Unit | None:
    """The "Name: value" line whose name the question asks for most fully: the product's own before a
    document's, then from the best-ranked passage."""
    best, best_key = None, None
    for unit in units:
        found = attribute(unit)
        if found is None:
            continue
        matched = sum(1 for n in found[0] if _meets({n}, about))
        if matched and matched / len(found[0]) >= 0.5:
            key = (matched / len(found[0]), matched, unit.passage.source in ("product", "sku"), -unit.rank)
            if best_key is None or key > best_key:
                best, best_key = unit, key
    return best


def lead(question: str, units: list[Unit], support: list[Unit], about: frozenset) -> tuple[Unit, bool | None] | None:
    """Return the sentence that answers directly and, for a yes/no question, whether it says yes or no.

    `support` is the scored support, best first; the lead comes from the shop's own text only, about the
    product the best support is about (or the only product among the passages)."""
    if not support:
        return None
    products = {u.passage.product_id for u in units} - {None}
    subject = support[0].passage.product_id or (next(iter(products)) if len(products) == 1 else None)
    own = [
        u for u in units if not customer_voice.is_customer(u.passage.source) and u.passage.product_id in (None, subject)
    ]
    prop = property_terms(question, units)
    if prop:
        evidence = [u for u in own if attribute(u) and polarity(u, prop) is not None]
        evidence += [u for u in support if u in own and not u.text.startswith("SKU ") and u not in evidence]
        said = {polarity(u, prop) for u in evidence} - {None}
        if len(said) == 1:
            answer = said.pop()
            return next(u for u in evidence if polarity(u, prop) is answer), answer
    found = _attribute_lead(own, about)
    return (found, None) if found is not None else None


def yes_no(answer: bool, locale: str) -> str:
    yes, no = YES_NO.get(locale, YES_NO["en"])
    return yes if answer else no
