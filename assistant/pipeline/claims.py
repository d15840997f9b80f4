"""Find the checkable statements in a sentence: SKU codes, prices, stock claims, figures, policy wording."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from assistant.text import CITATION_RE, UNITS, normalize_measures

SKU_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,9}(?:-[A-Z0-9]{1,12}){1,5}\b")
_AMOUNT = r"\d{1,3}(?:[.,\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY = r"€|£|\$|EUR|GBP|USD|Euro|euros?"
PRICE_RE = re.compile(
    rf"(?P<pre>{_CURRENCY})\s?(?P<a>{_AMOUNT})(?![\d])|(?<![\w.,])(?P<b>{_AMOUNT})\s?(?P<post>{_CURRENCY})(?!\w)",
    re.IGNORECASE,
)
CURRENCIES = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "$": "USD",
    "usd": "USD",
}
OUT_OF_STOCK_RE = re.compile(
    r"\b(out of stock|not in stock|sold out|unavailable|not available|nicht auf lager|nicht vorrätig|"
    r"nicht lieferbar|ausverkauft)\b",
    re.IGNORECASE,
)
IN_STOCK_RE = re.compile(r"\b(in stock|available|auf lager|vorrätig|lieferbar)\b", re.IGNORECASE)
QUANTITY_RE = re.compile(r"\b(\d+)\s+(units?|pieces?|items? left|Stück|Stk)\b", re.IGNORECASE)
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
# A number with the unit `normalize_measures` wrote after it, if any: "150 fahrenheit" is not "150 celsius".
FIGURE_RE = re.compile(rf"(\d+(?:[.,]\d+)?)(?: ({'|'.join(sorted(UNITS, key=len, reverse=True))})(?!\w))?")
POLICY_RE = re.compile(
    r"\b(return\w*|refund\w*|warrant\w*|guarantee\w*|shipping|delivery|dispatch\w*|withdraw\w*|restocking|"
    r"rückgabe\w*|rücksend\w*|erstatt\w*|garantie\w*|gewährleistung|versand\w*|lieferung\w*|widerruf\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PriceMention:
    start: int
    end: int
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class StockMention:
    start: int
    end: int
    in_stock: bool
    quantity: int | None = None


def parse_amount(text: str) -> Decimal | None:
    """Read 1,299.00 / 1.299,00 / 4,95 / 129.99 / 1 299 as a Decimal."""
    text = text.replace("\u202f", "").replace(" ", "")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text or "." in text:
        sep = "," if "," in text else "."
        decimal = sep if len(text) - text.rfind(sep) - 1 in (1, 2) else None
    else:
        decimal = None
    thousands = {",", "."} - {decimal}
    for sep in thousands:
        text = text.replace(sep, "")
    if decimal:
        text = text.replace(decimal, ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def prices_in(sentence: str) -> list[PriceMention]:
    out = []
    for match in PRICE_RE.finditer(sentence):
        amount = parse_amount(match.group("a") or match.group("b"))
        currency = CURRENCIES.get((match.group("pre") or match.group("post")).lower())
        if amount is not None and currency:
            out.append(PriceMention(match.start(), match.end(), amount, currency))
    return out


def stock_in(sentence: str) -> list[StockMention]:
    out = [StockMention(m.start(), m.end(), False) for m in OUT_OF_STOCK_RE.finditer(sentence)]
    taken = [(m.start, m.end) for m in out]
    for match in IN_STOCK_RE.finditer(sentence):
        if not any(start <= match.start() < end for start, end in taken):
            out.append(StockMention(match.start(), match.end(), True))
    for match in QUANTITY_RE.finditer(sentence):
        out.append(StockMention(match.start(1), match.end(1), int(match.group(1)) > 0, int(match.group(1))))
    return out


def codes_in(sentence: str) -> list[str]:
    return [code for code in SKU_RE.findall(sentence) if any(c.isdigit() for c in code)]


def normalize_number(text: str) -> str:
    value = parse_amount(text)
    if value is None:
        return text
    return format(value.normalize(), "f")


def _figures(text: str) -> set[str]:
    """Return "<number>" or "<number> <unit>" for each number of the (normalized) text."""
    found = set()
    for match in FIGURE_RE.finditer(normalize_measures(text)):
        number = normalize_number(match.group(1))
        found.add(f"{number} {match.group(2)}" if match.group(2) else number)
    return found


def figures_in(sentence: str, skip: list[tuple[int, int]]) -> set[str]:
    """Return the figures in the sentence outside citation markers, SKU codes and the given spans, with their
    units ("55 gallon") where the sentence gives one."""
    spans = list(skip) + [m.span() for m in CITATION_RE.finditer(sentence)]
    spans += [m.span() for m in SKU_RE.finditer(sentence)]
    for start, end in spans:
        sentence = sentence[:start] + " " * (end - start) + sentence[end:]
    return _figures(sentence)


def figures_of(text: str) -> set[str]:
    """Return the figures a passage states, as `figures_in` writes them."""
    return _figures(text)


def numbers_of(text: str) -> set[str]:
    """Return the numbers the text states, with or without a unit."""
    return {figure.partition(" ")[0] for figure in _figures(text)}


def figures_missing(found: set[str], allowed: set[str]) -> set[str]:
    """Return the figures of `found` the allowed ones do not state: a figure with a unit needs the same number
    with that unit, or the number on its own; a bare number needs the number, with any unit or none."""
    numbers = {figure.partition(" ")[0] for figure in allowed}

    def stated(figure: str) -> bool:
        number, _, unit = figure.partition(" ")
        return figure in allowed or (number in allowed if unit else number in numbers)

    return {figure for figure in found if not stated(figure)}
