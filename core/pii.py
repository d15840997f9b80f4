"""PII detection: e-mail addresses, phone numbers, payment cards, IBANs, postal addresses and names.

Libraries where one serves (evaluated in README → PII): `phonenumbers` (Google's libphonenumber) finds phone
numbers and validates them per region, `python-stdnum` checks card numbers with Luhn, `schwifty` validates
IBANs (country length and mod-97 checksum). E-mail addresses, street addresses and names have no offline
library that finds them in running text without an NER model, so they are patterns here: e-mail by its
syntax, addresses by a street-type word next to a house number (optionally followed by a postcode and town),
names only where the text introduces one ("my name is …", "Mr …", "Name: …", a signature after "regards").
Presidio was evaluated and not adopted: offline it has no NER model, so it finds no names or addresses either,
and its e-mail, card, IBAN and phone recognizers are these same checks behind spaCy (a large dependency).

Every candidate must also stand alone: a digit run glued to letters, `-`, `@`, `#` or `:` (SKU codes such as
`ACME-1001-16`, citation IDs `sku:ACME-1001@7#spec`) is never PII, and prices (`199.00`, `1.299,00 €`) are
too short or fail every check.
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn


class Kind:
    EMAIL = "EMAIL"
    IBAN = "IBAN"
    CARD = "CARD"
    PHONE = "PHONE"
    ADDRESS = "ADDRESS"
    NAME = "NAME"


PRIORITY = (Kind.EMAIL, Kind.IBAN, Kind.CARD, Kind.PHONE, Kind.ADDRESS, Kind.NAME)  # overlaps: earlier wins
DEFAULT_PHONE_REGIONS = ("DE", "GB", "US", "FR")  # national numbers are read as each; "+" numbers as dialled


@dataclass(frozen=True)
class PiiSpan:
    kind: str
    start: int
    end: int
    value: str


EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
CARD_RE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Issuer prefixes and the lengths each network issues (13-digit Visa cards are long gone, and EAN-13
# barcodes pass Luhn one time in ten): Visa, Mastercard, Amex, Diners, Discover, UnionPay, JCB.
CARD_NETWORKS = (
    (re.compile(r"^4"), (16, 19)),
    (re.compile(r"^(5[1-5]|2[2-7])"), (16,)),
    (re.compile(r"^3[47]"), (15,)),
    (re.compile(r"^3[068]"), (14,)),
    (re.compile(r"^(6011|65|64[4-9])"), (16, 17, 18, 19)),
    (re.compile(r"^(62|35)"), (16, 17, 18, 19)),
)
IBAN_RE = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])")
GLUE = set("-@#:/_.")  # a number joined to these is part of a code, an id or an address, not a phone number

_STREET_DE = r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ]?[a-zäöüß]+)*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer)"
_STREET_EN_TYPE = (
    r"(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Way|Court|Ct\.?"
    r"|Place|Pl\.?|Terrace|Close|Crescent|Square|Sq\.?|Gardens|Grove|Rue|Parkway)"
)
_TOWN = r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?"  # one word (Berlin, Halle-Neustadt)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
ADDRESS_RES = (
    # Hauptstraße 5, 10115 Berlin / Lindenallee 12a
    re.compile(rf"\b{_STREET_DE} \d{{1,4}}[a-z]?\b(?:,? \d{{4,5}} {_TOWN})?"),
    # 221B Baker Street, London NW1 6XE / 1600 Amphitheatre Parkway, Mountain View, CA 94043
    re.compile(
        rf"\b\d{{1,5}}[A-Za-z]? (?:[A-Z][a-z]+ ){{1,3}}{_STREET_EN_TYPE}(?![\w])"
        rf"(?:, {_TOWN}(?: {_TOWN})?,? (?:[A-Z]{{2}} \d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE})|, {_TOWN}(?![\w-]))?"
    ),
    # 12 rue de la Paix, 75002 Paris
    re.compile(
        rf"\b\d{{1,4}},? (?:rue|avenue|boulevard|place|chemin) (?:[a-zé']+ ){{0,3}}[A-Z][\w'-]+"
        rf"(?:,? \d{{5}} {_TOWN})?"
    ),
)
_NAME_WORD = r"[A-ZÄÖÜ][a-zäöüßéèáñ]+(?:-[A-ZÄÖÜ][a-zäöüßéèáñ]+)?"
_FULL_NAME = rf"{_NAME_WORD} (?:van |von |de |del |da |le )?{_NAME_WORD}"  # first and last name
NAME_RES = (
    re.compile(rf"(?i:\bmy name is|\bich heiße|\bmein name ist) ({_FULL_NAME})"),
    re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Herr|Frau)\.? ((?:{_NAME_WORD} )?{_NAME_WORD})"),
    re.compile(
        rf"(?i:\b(?:full )?name|\bcontact|\bcustomer|\bsigned|\bkunde|\bansprechpartner(?:in)?)\s*[:=]\s*"
        rf"({_FULL_NAME})"
    ),
    re.compile(
        rf"(?i:\b(?:kind )?regards|\bcheers|\bthanks|\bbest|\bsincerely|\bgrüße|\bgruß)"
        rf"(?:,\s*|\s*\n\s*)({_FULL_NAME})\b"
    ),
)
NOT_NAMES = {"Customer", "Service", "Support", "Team", "The", "Our", "Your", "Thanks", "Regards", "Best", "Sir"}


def pii_find(text: str, *, regions: tuple[str, ...] | None = None) -> list[PiiSpan]:
    """Return the PII spans in `text`, in order, without overlaps (see PRIORITY)."""
    if not text:
        return []
    regions = regions or tuple(getattr(settings, "PII_PHONE_REGIONS", DEFAULT_PHONE_REGIONS))
    found = [*_emails(text), *_ibans(text), *_cards(text), *_phones(text, regions), *_addresses(text), *_names(text)]
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    found.sort(key=lambda s: (rank[s.kind], -(s.end - s.start), s.start))
    kept: list[PiiSpan] = []
    for span in found:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def normalize(kind: str, value: str) -> str:
    """Return the canonical form a value's token is derived from (one token per e-mail, number, IBAN ...)."""
    if kind == Kind.EMAIL:
        return value.lower()
    if kind in (Kind.CARD, Kind.IBAN):
        return re.sub(r"[\s-]", "", value).upper()
    if kind == Kind.PHONE:
        return re.sub(r"[^\d+]", "", value)
    return " ".join(value.split())


def _emails(text: str) -> list[PiiSpan]:
    return [PiiSpan(Kind.EMAIL, m.start(), m.end(), m.group()) for m in EMAIL_RE.finditer(text)]


def _cards(text: str) -> list[PiiSpan]:
    spans = []
    for m in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        issued = any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in CARD_NETWORKS)
        if issued and luhn.is_valid(digits):
            spans.append(PiiSpan(Kind.CARD, m.start(), m.end(), m.group()))
    return spans


def _ibans(text: str) -> list[PiiSpan]:
    spans = []
    for m in IBAN_RE.finditer(text):
        candidate = m.group()
        # The pattern may take a trailing group that is not part of the IBAN: try shorter ends too.
        for end in range(len(candidate), 14, -1):
            piece = candidate[:end].rstrip()
            if _iban_valid(piece):
                spans.append(PiiSpan(Kind.IBAN, m.start(), m.start() + len(piece), piece))
                break
    return spans


def _iban_valid(value: str) -> bool:
    try:
        IBAN(value.replace(" ", ""))
    except (SchwiftyException, ValueError):
        return False
    return True


def _phones(text: str, regions: tuple[str, ...]) -> list[PiiSpan]:
    spans = {}
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.STRICT_GROUPING):
            start, end = match.start, match.end
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            glued_after = after in GLUE and text[end + 1 : end + 2].isalnum()
            if before.isalnum() or after.isalnum() or before in GLUE or glued_after:
                continue
            if match.raw_string.isdigit() and not match.raw_string.startswith("0"):
                continue  # a bare digit run without a trunk prefix is an order or invoice number as often
            spans[(start, end)] = PiiSpan(Kind.PHONE, start, end, match.raw_string)
    return list(spans.values())


def _addresses(text: str) -> list[PiiSpan]:
    return [PiiSpan(Kind.ADDRESS, m.start(), m.end(), m.group()) for p in ADDRESS_RES for m in p.finditer(text)]


def _names(text: str) -> list[PiiSpan]:
    spans = []
    for pattern in NAME_RES:
        for m in pattern.finditer(text):
            words = m.group(1).split()
            while words and words[-1] in NOT_NAMES:
                words.pop()
            if not words or words[0] in NOT_NAMES:
                continue
            value = " ".join(words)
            spans.append(PiiSpan(Kind.NAME, m.start(1), m.start(1) + len(value), value))
    return spans
