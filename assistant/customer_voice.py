"""Customers' statements: which passages are theirs, and how an answer attributes what they say.

A review or a Q&A answer is a customer speaking, not the shop: an answer may repeat it only as an attributed
statement ("A customer answered: ..."). The provider that drafts and the verifier that checks share these
words, so a draft written this way is kept as it is and any other one is corrected to it.
"""

import re

CUSTOMER_SOURCES = frozenset({"review", "qa"})  # document kinds written by customers
# The prefixes an answer puts before a customer's statement, per locale and source ({rating}: 1 to 5).
PREFIXES = {
    "en": {
        "review": "A customer who owns it says: ",
        "rated": "A customer reviewer ({rating}/5) says: ",
        "qa": "A customer answered: ",
    },
    "de": {
        "review": "Ein Kunde sagt: ",
        "rated": "Ein Kunde (Bewertung {rating}/5) sagt: ",
        "qa": "Ein Kunde antwortet: ",
    },
}
LABELS = {"review": "customer review", "qa": "customer answer"}
# An attributed sentence names its speaker and a verb of saying first ("A customer who owns it says: ...",
# "Reviewers report ...") or opens with "According to a review, ..." / "Laut einer Bewertung ...".
_SAY = (
    r"(?:says?|said|writes?|wrote|answer(?:s|ed)?|report(?:s|ed)?|mention(?:s|ed)?|note(?:s|d)?|finds?|found|"
    r"thinks?|feels?|likes?|liked|loves?|loved|praises?|praised|complains?|complained|"
    r"sagt|sagen|schreibt|schreiben|antwortet|antworten|berichtet|berichten|meint|meinen|findet|finden|lobt|loben)"
)
ATTRIBUTED_RE = re.compile(
    r"^\s*(?:(?:an?|one|another|some|several|many|most)\s+)?(?:verified\s+)?"
    rf"(?:customers?|reviewers?|buyers?|owners?|shoppers?)\b(?!\s+(?:support|service|care))[^.!?:]{{0,60}}?\b{_SAY}\b"
    r"|^\s*(?:(?:ein|eine|einige|mehrere|viele)\s+)?(?:kunden?|kundin(?:nen)?|käufer(?:in|innen)?|rezensent\w*)\b"
    rf"[^.!?:]{{0,60}}?\b{_SAY}\b"
    r"|^\s*according\s+to\s+(?:(?:a|an|one|the|some|several|many)\s+)?"
    r"(?:customers?|reviews?|reviewers?|buyers?|owners?)\b"
    r"|^\s*laut\s+(?:(?:einer|einem|einigen|den)\s+)?(?:kunden?|kundin|bewertung\w*|rezension\w*)\b",
    re.IGNORECASE,
)


def is_customer(source: str) -> bool:
    return source in CUSTOMER_SOURCES


def label(source: str, rating: int | None) -> str:
    """Describe a customer's passage for a prompt listing ("customer review, rated 4/5"); "" for the shop's."""
    if not is_customer(source):
        return ""
    return f"{LABELS[source]}, rated {rating}/5" if source == "review" and rating else LABELS[source]


def prefix(source: str, rating: int | None, locale: str) -> str:
    """The words that attribute a statement from this source ("A customer answered: ")."""
    words = PREFIXES.get(locale, PREFIXES["en"])
    if source == "qa":
        return words["qa"]
    return words["rated"].format(rating=rating) if rating else words["review"]


def is_attributed(sentence: str) -> bool:
    return bool(ATTRIBUTED_RE.match(sentence))


def attribute(sentence: str, source: str, rating: int | None, locale: str) -> str:
    """Return the sentence as a customer's attributed statement (unchanged when it already is one)."""
    if is_attributed(sentence):
        return sentence
    return f"{prefix(source, rating, locale)}{sentence.strip()}"


def statement(sentence: str) -> str:
    """Return what the customer says: the sentence without its attribution ("A customer answered")."""
    match = ATTRIBUTED_RE.match(sentence)
    return sentence[match.end() :].lstrip(" :,") if match else sentence
