"""Text helpers shared by the guardrail, the extractive provider and the verifier (no database, no model)."""

import re
import unicodedata

WORD_RE = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿß]+(?:[.,][0-9]+)*", re.UNICODE)
CITATION_RE = re.compile(r"\[(\d{1,3})\]")
MARKDOWN_RE = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+(?:\.\d+)*\.?\s+(?=[A-ZÄÖÜ]))|\*\*|__|`")
TABLE_ROW_RE = re.compile(r"^\s*\|(.+)\|\s*$")
ATTRIBUTE_LINE_RE = re.compile(r"^[A-ZÄÖÜ][^:.!?]{1,40}: \S")
LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+\.|\d+(?:\.\d+)+)\s+")  # bullets, steps and clauses ("1.1 ...")

STOPWORDS = frozenset(
    # English
    "a an the and or but if of to in on at by for with from into onto about as is are was were be been being do "
    "does did doing have has had having i me my we our you your he she it its they them their this that these those "
    "what which who whom whose when where why how can could would should will shall may might must not no nor so "
    "than too very just also any all some each other more most such only own same there here then once again "
    "please tell know want need get got give show let like much many one ones there's what's it's i'm do you "
    "sell buy offer available exist exists does anything something thing things "
    # German
    "der die das den dem des ein eine einer eines einem einen und oder aber wenn von zu im in am an auf bei für mit "
    "aus nach über um ist sind war waren sein bin bist hat haben hatte ich mich mein wir unser sie ihr ihre es er "
    "was welche welcher welches wer wie wo warum wann kann können könnte soll sollte muss nicht kein keine auch "
    "nur noch so sehr gibt es bitte ihr euch man dieser diese dieses zum zur vom beim hier da dann".split()
)
GERMAN_HINTS = frozenset(
    "der die das und ist wie ich nicht für mit gibt welche kostet lange haben sie ihr ein eine auf lager wann "
    "wo kann meine rückgabe garantie versand".split()
)


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def normalize_question(text: str) -> str:
    """Return the question as a cache key part: NFKC, lower case, single spaces, no trailing punctuation."""
    return normalize_space(unicodedata.normalize("NFKC", text).lower()).strip(" ?!.")


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(text)]


STEM_MAX = 6  # letters a stem keeps: "zurückzugeben" and "zurückgeben", "delivery" and "deliver" meet


def stem(word: str) -> str:
    """Return a crude stem good enough to match plurals, inflections and German compounds' heads."""
    word = word.lower()
    for suffix in ("ings", "ing", "ies", "es", "en", "ed", "er", "s", "e", "n"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word if word[:1].isdigit() else word[:STEM_MAX]


def content_terms(text: str) -> list[str]:
    """Return the stems of the words that carry meaning (no stop words, no one-letter words), in order."""
    out = []
    for word in words(text):
        if len(word) < 2 or word in STOPWORDS:
            continue
        term = stem(word)
        if term not in out:
            out.append(term)
    return out


def looks_german(text: str) -> bool:
    tokens = words(text)
    hits = sum(1 for t in tokens if t in GERMAN_HINTS) + sum(1 for c in text if c in "äöüß")
    return hits >= 2 or (len(tokens) <= 3 and hits >= 1)


def strip_citations(sentence: str) -> str:
    return normalize_space(CITATION_RE.sub("", sentence)).replace(" .", ".")


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for n in CITATION_RE.findall(sentence)]


def _blocks(text: str) -> list[tuple[str, str]]:
    """Return (heading, block) pairs: paragraphs and list items with their wrapped lines joined, table rows
    as "Label: value" (two columns) or "First cell: header value; header value" (more)."""
    blocks, heading, current, header = [], "", [], None

    def close():
        if current:
            blocks.append((heading, " ".join(current)))
            current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        row = TABLE_ROW_RE.match(line)
        if row:
            close()
            cells = [c.strip().replace("**", "") for c in row.group(1).split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue  # the |---|---| separator
            if header is None:
                header = cells
            elif len(cells) == 2:
                blocks.append(("|", f"{cells[0]}: {cells[1]}"))
            else:
                pairs = "; ".join(f"{h.lower()} {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c)
                blocks.append(("|", f"{cells[0]}: {pairs}"))
            continue
        header = None
        if not line:
            close()
        elif line.startswith("#"):
            close()
            heading = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", MARKDOWN_RE.sub("", line).replace("**", "").strip())
        elif LIST_ITEM_RE.match(line):
            close()
            current.append(line)
        elif ATTRIBUTE_LINE_RE.match(line):  # catalog passages: one "Label: value" per line
            close()
            blocks.append((heading, line))
        else:
            current.append(line)
    close()
    return blocks


def passage_units(text: str) -> list[str]:
    """Split a passage into sentence-sized units: markdown stripped, wrapped lines joined, table rows as
    'Label: value', and list items prefixed with their section heading (so "- In-ear headphones" keeps its
    "Items that cannot be returned")."""
    units = []
    for heading, block in _blocks(text):
        if heading == "|":
            units.append(block)
            continue
        bullet = bool(LIST_ITEM_RE.match(block))
        block = MARKDOWN_RE.sub("", block).replace("**", "").strip()
        if bullet and heading and not block.lower().startswith(heading.lower()):
            block = f"{heading}: {block}"
        for piece in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9])", block):
            piece = piece.strip()
            if len(piece) >= 3:
                units.append(piece)
    return units


# Measures: "55-gallon" and "55 gallon", "150°F" and "150 degrees Fahrenheit", "MX-500" and "MX500" ---------------

UNITS = {
    "fahrenheit": ("°f", "° f", "ºf", "degrees fahrenheit", "degree fahrenheit", "deg f", "f", "fahrenheit"),
    "celsius": ("°c", "° c", "ºc", "degrees celsius", "degree celsius", "deg c", "c", "celsius", "grad celsius"),
    "gallon": ("gallons", "gallon", "gal"),
    "litre": ("litres", "liters", "litre", "liter", "liter", "l"),
    "ml": ("millilitres", "milliliters", "millilitre", "milliliter", "ml"),
    "inch": ("inches", "inch"),
    "foot": ("feet", "foot", "ft"),
    "mm": ("millimetres", "millimeters", "millimetre", "millimeter", "mm"),
    "cm": ("centimetres", "centimeters", "centimetre", "centimeter", "cm"),
    "metre": ("metres", "meters", "metre", "meter", "m"),
    "kg": ("kilograms", "kilogram", "kilos", "kilo", "kg"),
    "g": ("grams", "gram", "g"),
    "pound": ("pounds", "pound", "lbs", "lb"),
    "ounce": ("ounces", "ounce", "oz"),
    "watt": ("watts", "watt", "w"),
    "volt": ("volts", "volt", "v"),
    "mah": ("mah",),
    "wh": ("wh",),
    "nm": ("nm",),
    "hour": ("hours", "hour", "hrs", "hr", "h", "stunden", "std"),
    "minute": ("minutes", "minute", "mins", "min"),
    "pack": ("packs", "pack", "pk"),
    "piece": ("pieces", "piece", "pcs", "pc", "teilig"),
}
UNIT_OF = {spelling: unit for unit, spellings in UNITS.items() for spelling in spellings}
_SPELLINGS = "|".join(re.escape(s) for s in sorted(UNIT_OF, key=len, reverse=True))
# A number, then (after a space or a hyphen, or directly) a unit's spelling that ends there.
MEASURE_RE = re.compile(rf"(\d+(?:[.,]\d+)?)(?:\s?-\s?|\s?)({_SPELLINGS})(?![\wÀ-ÿ])", re.IGNORECASE)
# A model code: hyphenated letters and digits, in capitals ("SON-ANC-100", "X5-PRO") or a short prefix ("mx-500").
CODE_RE = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?:[A-Z0-9]+(?:-[A-Z0-9]+)+|[A-Za-z]{1,5}-\d+(?:-[A-Za-z0-9]+)*)(?![\w-])")
HYPHENATED_RE = re.compile(r"(?<=[0-9A-Za-zÀ-ÿ])-(?=[A-Za-zÀ-ÿ])|(?<=[A-Za-zÀ-ÿ])-(?=[0-9])")


def normalize_measures(text: str) -> str:
    """Return the text with measures, codes and hyphens written one way, for comparing what two texts state.

    A number and a known unit become "<number> <unit>" ("55-gallon", "55 gallons" -> "55 gallon"; "150°F",
    "150 degrees Fahrenheit", "150 F" -> "150 fahrenheit"; "3-pack" -> "3 pack"); a hyphenated code mixing
    letters and digits loses its hyphens ("MX-500" -> "MX500"); other hyphens next to a letter become spaces
    ("USB-C" -> "USB C", "2-year" -> "2 year"). Everything else keeps its case.
    """
    text = MEASURE_RE.sub(lambda m: f"{m.group(1)} {UNIT_OF[m.group(2).lower()]}", text)
    text = CODE_RE.sub(lambda m: m.group().replace("-", ""), text)
    return HYPHENATED_RE.sub(" ", text)


def question_entities(question: str, locale: str) -> list[str]:
    """Return the names, codes and numbers a question asks about (lower case, measures normalized).

    German capitalizes every noun, so there only numbers and codes count as names.
    """
    tokens = re.findall(r"[A-Za-zÀ-ÿ0-9][\w.-]*", normalize_measures(question))
    out = []
    for i, token in enumerate(tokens):
        token = token.strip(".-")
        lowered = token.lower()
        if len(token) < 2:
            continue
        capitalized = locale != "de" and i > 0 and token[0].isupper() and not token.isupper()
        named = any(c.isdigit() for c in token) or capitalized
        code = token.isupper() and len(token) >= 2
        if (named or code) and lowered not in STOPWORDS and lowered not in COMMON_CODES:
            out.append(lowered)
    return out


COMMON_CODES = frozenset({"sku", "eur", "gbp", "usd", "pdf"})
