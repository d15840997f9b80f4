"""Where a question about one product may look: that product's own content and the tenant's policies, or, when
it asks for alternatives or a comparison, the caller's whole visible catalog.

The cue is read from the question's structure, not from a list of sentences:
- a comparative pointing at another item: "a quieter one", "a cheaper model", "something a bit lighter",
  "one that is less expensive", "etwas Leiseres", "ein günstigeres Modell";
- "than" / "als" after a comparison, comparing with an item ("than this", "than the Aural") rather than a
  figure ("more than 20 hours", "länger als 10 Stunden") or a clause about the same item ("than it is for
  more players", "than this was last year");
- a word naming alternatives or comparison ("alternatives", "similar", "versus", "compared"), or "other" /
  "another" before a word for catalog items ("other brands", "another model").
Comparatives are recognised by form (an "-er" word, or "more" / "less" before a word); the frames around
them keep nouns that merely end in "-er" ("a charger", "the power") from counting.
"""

import re
from dataclasses import dataclass

from assistant.pipeline.types import Ask, Scope
from assistant.text import STOPWORDS

TOKEN_RE = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)?", re.UNICODE)  # "that's": "that", "s"

# Function words of the frames: closed classes of the language, not questions.
INDEFINITE = frozenset("something anything nothing etwas nichts".split())
DETERMINER = frozenset("a an the any some another ein eine einen einem einer eines".split())
INTENSIFIER = frozenset("a bit little slightly much even lot somewhat way noch etwas viel deutlich".split())
RELATIVE = frozenset("that which".split())  # "one that is quieter"
COPULA = frozenset("is are s was be".split())
MORE_LESS = frozenset("more less fewer mehr weniger".split())
CLAUSE_VERBS = frozenset("is are was were does do did will would can could used has have ist war".split())
# Words for catalog items, after a comparative or "other": "a cheaper model", "other brands".
ITEM = frozenset(
    "one ones model models version versions option options alternative alternatives variant variants product "
    "products brand brands make makes manufacturer manufacturers kind kinds type types choice choices pair pairs "
    "modell modelle variante varianten produkt produkte marke marken alternative alternativen hersteller".split()
)
# What "than" / "als" compares with when the question compares items (pronouns, determiners, names).
REFERENT = frozenset(
    "this that these those the mine my your yours other others another any anything everything "
    "dies diese dieser dieses das der die den dem mein meiner meins ihr ihrer andere anderen".split()
)
ALTERNATIVES = re.compile(
    r"^(alternatives?|alternativ(e|en)?|comparable|vergleichbar\w*|compar(e|ed|es|ing|ison|isons)|vergleich\w*"
    r"|versus|vs|competitors?|konkurren\w*|rivals?|equivalents?)$"
)
# "similar" names an alternative when it stands for an item ("something similar", "a similar one",
# "similar to this"), not when it qualifies another noun ("similar problems").
SIMILAR = re.compile(r"^(similar|ähnlich\w*)$")
OTHER = frozenset("other another andere anderes anderen anderer".split())
NOT_COMPARATIVE = frozenset("other rather either whether never ever over under after".split())
ENGLISH_COMPARATIVE = re.compile(r"^[^\W\d_]{2,}er$")
GERMAN_COMPARATIVE = re.compile(r"^[^\W\d_]{2,}er(e|es|en|em)$")  # inflected: "leiseres", "günstigere"


@dataclass(frozen=True)
class _Words:
    text: str
    lower: list[str]
    original: list[str]
    offsets: list[tuple[int, int]]

    def at(self, i: int) -> str:
        return self.lower[i] if 0 <= i < len(self.lower) else ""


def _comparative(word: str) -> bool:
    if word in ("better", "worse", "besser", "bessere", "besseres", "schlechter"):
        return True
    if word in NOT_COMPARATIVE:
        return False
    return bool(ENGLISH_COMPARATIVE.match(word) or GERMAN_COMPARATIVE.match(word))


def _comparison_at(words: _Words, i: int) -> int:
    """The number of words of a comparison starting at i ("quieter": 1, "more comfortable": 2), else 0."""
    word, following = words.at(i), words.at(i + 1)
    if word in MORE_LESS and following and not following[0].isdigit() and following not in STOPWORDS:
        return 2
    return 1 if _comparative(word) else 0


def _after_intensifiers(words: _Words, i: int) -> int:
    while words.at(i) in INTENSIFIER and i < len(words.lower) - 1:
        i += 1
    return i


def _than_an_item(words: _Words, i: int) -> bool:
    """'than' / 'als' at i compares with an item: a referent word or a name follows, not a figure."""
    before, after = words.at(i - 1), words.at(i + 1)
    if not after or after[0].isdigit() or before in ("rather", "other"):
        return False
    if after in ("this", "that") and words.at(i + 2) in CLAUSE_VERBS:
        return False  # "than this is for ...", "than that was": a clause about the same item, not another one
    named = words.original[i + 1][:1].isupper() and after != "i"
    if words.lower[i] == "als":  # "als" is also "as", "when": only after a comparison
        return _comparison_at(words, i - 1) > 0 and (after in REFERENT or named)
    return after in REFERENT or named


def _span(words: _Words, start: int, end: int) -> str:
    """The question's text from word `start` to the word before `end`."""
    start, end = max(0, start), min(end, len(words.lower))
    return words.text[words.offsets[start][0] : words.offsets[end - 1][1]]


def _than(words: _Words, i: int) -> str | None:
    """'... quieter than this', 'leiser als der ...'."""
    return _span(words, i - 1, i + 2) if words.at(i) in ("than", "als") and _than_an_item(words, i) else None


def _named(words: _Words, i: int) -> str | None:
    """'alternatives', 'compared', 'other brands', 'something similar', 'similar to ...'."""
    word = words.at(i)
    if ALTERNATIVES.match(word):
        return _span(words, i, i + 1)
    if word in OTHER and words.at(i + 1) in ITEM:
        return _span(words, i, i + 2)
    before, after = words.at(i - 1), words.at(i + 1)
    if SIMILAR.match(word) and (before in INDEFINITE or after in ITEM or after in ("to", "wie", "")):
        return _span(words, i - 1, i + 2)
    return None


def _pointing(words: _Words, i: int) -> str | None:
    """A comparative standing for another item: 'something (a bit) lighter', 'a cheaper model', 'one that is
    less expensive', 'quieter ones'."""
    word, start = words.at(i), i + 1
    if word in RELATIVE:
        if words.at(start) not in COPULA:
            return None
        start += 1
    elif word not in INDEFINITE and word not in DETERMINER:
        return _span(words, i, i + 2) if _comparison_at(words, i) == 1 and words.at(i + 1) in ("one", "ones") else None
    start = _after_intensifiers(words, start)
    size = _comparison_at(words, start)
    end = start + size
    if not size or not (word in INDEFINITE or word in RELATIVE or words.at(end) in ITEM):
        return None
    return _span(words, i, end + (words.at(end) in ITEM))


FRAMES = (_than, _named, _pointing)


def comparison_cue(question: str) -> str | None:
    """Return the words that make the question ask for alternatives or a comparison, or None."""
    matches = list(TOKEN_RE.finditer(question))
    original = [m.group() for m in matches]
    words = _Words(question, [w.lower() for w in original], original, [m.span() for m in matches])
    for i in range(len(original)):
        for frame in FRAMES:
            cue = frame(words, i)
            if cue:
                return cue
    return None


def scope_for(ask: Ask, question: str) -> Scope:
    """Decide where retrieval may look for this (guarded) question."""
    if ask.target_kind == "document":
        return Scope("document")
    if ask.target_kind == "product":
        return Scope("product", ask.target)
    context = ask.context
    if context is None:
        return Scope("catalog")
    cue = comparison_cue(question)
    if cue is None:
        return Scope("product", context.handle, available=context.product_id is not None, title=context.title)
    message = f"The question asks for alternatives or a comparison ({cue!r}): other products were searched too."
    return Scope("catalog", context.handle, ("comparison", message), available=context.product_id is not None)
