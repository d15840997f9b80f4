"""A deterministic corpus of shopper messages with planted PII, and of catalog text that holds none.

`planted_corpus()` returns (text, [(kind, value), ...]) pairs: every value is what a detector must find
(exactly as written). `clean_corpus()` returns catalog-like strings (SKU codes, prices, citation IDs, EANs,
dimensions, dates, order numbers) in which nothing is PII. Same seed, same corpus.
"""

import random

from schwifty import IBAN
from stdnum import luhn

FIRST = ["Anna", "Lukas", "Sophie", "Jonas", "Emma", "Noah", "Olivia", "Liam", "Marie", "Paul", "Chloe", "Mateo"]
LAST = ["Schmidt", "Müller", "Fischer", "Weber", "Smith", "Johnson", "Brown", "Dubois", "Martin", "Taylor", "Wagner"]
DOMAINS = ["example.com", "mail.example.org", "shop-kunde.de", "example.co.uk", "posteo.example.net"]
PHONES = {
    "DE": ["030 {a}{b}", "+49 30 {a}{b}", "0171 {a}{b}", "+49 171 {a}{b}", "089/{a}{b}"],
    "GB": ["020 79{c} {d}", "+44 20 79{c} {d}", "07700 9{c}{e}"],
    "US": ["(415) 55{f}-{d}", "+1 415-55{f}-{d}", "212-55{f}-{d}"],
    "FR": ["+33 1 42 68 {g} {g2}", "01 42 68 {g} {g2}"],
}
STREETS_DE = ["Hauptstraße", "Lindenallee", "Bergweg", "Marktplatz", "Schillerstr.", "Rosengasse", "Kaiserdamm"]
TOWNS_DE = [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg")]
STREETS_EN = ["Baker Street", "Oak Avenue", "Mill Lane", "Station Road", "High Street", "Maple Drive"]
TOWNS_EN = ["London NW1 6XE", "Springfield, IL 62704", "Leeds LS1 4AP", "Austin, TX 78701"]
IBAN_BANKS = [("DE", "37040044", "0532013000"), ("NL", "ABNA", "0417164300"), ("AT", "19043", "00234573000")]
CARD_PREFIXES = ["4111", "4532", "5500", "5105", "3782", "6011"]

TEMPLATES = {
    "EMAIL": [
        "Please send the invoice to {v}.",
        "My e-mail is {v}, can you confirm the order?",
        "Schicken Sie die Rechnung bitte an {v}",
        "contact: {v} - thanks",
    ],
    "PHONE": [
        "Call me on {v} about the delivery.",
        "Meine Nummer ist {v}.",
        "You can reach me at {v} after 5pm",
        "Tel. {v}",
    ],
    "CARD": [
        "I paid with card {v} but got no receipt.",
        "Charge {v} for the headphones please",
        "Kartennummer {v}, Ablauf 12/27",
    ],
    "IBAN": [
        "Refund to IBAN {v} please.",
        "Bitte erstatten auf {v}.",
        "My account is {v}",
    ],
    "ADDRESS": [
        "Ship it to {v}.",
        "Lieferadresse: {v}",
        "Deliver to {v} on Monday",
    ],
    "NAME": [
        "My name is {v} and my order is late.",
        "Hello, this is about my return. Kind regards, {v}",
        "Mein Name ist {v}.",
        "Dear support, Mrs {v} here.",
        "Customer: {v}",
    ],
}


def _card(rng: random.Random) -> str:
    prefix = rng.choice(CARD_PREFIXES)
    length = 15 if prefix.startswith("37") else 16
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    digits = body + luhn.calc_check_digit(body)
    if length == 15:
        return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
    sep = rng.choice([" ", "-", ""])
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    country, bank, account = rng.choice(IBAN_BANKS)
    account = account[:-3] + f"{rng.randrange(1000):03d}" if account[-3:].isdigit() else account
    iban = IBAN.generate(country, bank_code=bank, account_code=account)
    return iban.formatted if rng.random() < 0.6 else iban.compact


def _phone(rng: random.Random) -> str:
    region = rng.choice(list(PHONES))
    pattern = rng.choice(PHONES[region])
    values = {
        "a": f"{rng.randrange(100, 999)}",
        "b": f"{rng.randrange(1000, 9999)}",
        "c": f"{rng.randrange(10, 99)}",
        "d": f"{rng.randrange(1000, 9999)}",
        "e": f"{rng.randrange(10000, 99999)}",
        "f": f"{rng.randrange(0, 10)}",
        "g": f"{rng.randrange(10, 99)}",
        "g2": f"{rng.randrange(10, 99)}",
    }
    return pattern.format(**values)


def _address(rng: random.Random) -> str:
    if rng.random() < 0.5:
        postcode, town = rng.choice(TOWNS_DE)
        street = f"{rng.choice(STREETS_DE)} {rng.randrange(1, 200)}{rng.choice(['', 'a', 'b'])}"
        return f"{street}, {postcode} {town}" if rng.random() < 0.7 else street
    street = f"{rng.randrange(1, 9999)} {rng.choice(STREETS_EN)}"
    return f"{street}, {rng.choice(TOWNS_EN)}" if rng.random() < 0.7 else street


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


MAKERS = {
    "EMAIL": lambda rng: (
        f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}{rng.randrange(99)}@{rng.choice(DOMAINS)}"
    ).replace("ü", "ue"),
    "PHONE": _phone,
    "CARD": _card,
    "IBAN": _iban,
    "ADDRESS": _address,
    "NAME": _name,
}


def planted_corpus(size: int = 240, seed: int = 20250501) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return `size` messages, each with one to three planted values, and SKU/price noise around them."""
    rng = random.Random(seed)
    kinds = list(MAKERS)
    corpus = []
    for i in range(size):
        planted = []
        parts = []
        for kind in [kinds[i % len(kinds)], *rng.sample(kinds, rng.randrange(0, 3))]:
            value = MAKERS[kind](rng)
            planted.append((kind, value))
            parts.append(rng.choice(TEMPLATES[kind]).format(v=value))
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(CLEAN_TEMPLATES).format(**_clean_values(rng)))
        corpus.append((" ".join(parts), planted))
    return corpus


CLEAN_TEMPLATES = [
    "Is {sku} in stock?",
    "The {sku} costs {price} EUR, the {sku2} costs €{price2}.",
    "See {cite} for the warranty terms.",
    "Order {order} contained {qty} x {sku} at {price_de} €.",
    "EAN {ean}, dimensions {w} x {h} x {d} mm, weight {kg} kg.",
    "Delivered on {date}; invoice INV-{year}-{n}.",
    "SKU {sku} ({sku2}) ships within {qty} days; price {price} EUR incl. VAT.",
    "Model {model} has {qty} W and a {mah} mAh battery, {price} USD.",
    "Citation {cite} and {cite2} both mention {sku}.",
    "Part no. {part}, replacement for {sku2}, {price_de} EUR.",
]


def _clean_values(rng: random.Random) -> dict:
    brand = rng.choice(["ACME", "BW", "SON", "BOLT", "KTL"])
    sku = f"{brand}-{rng.choice(['LT', 'DR', 'ANC', 'KT'])}{rng.randrange(10000):04d}-{rng.randrange(8, 64)}"
    return {
        "sku": sku,
        "sku2": f"{brand}-{rng.randrange(1000, 9999)}-{rng.choice(['BLK', 'WHT', '18V'])}",
        "price": f"{rng.randrange(5, 3000)}.{rng.randrange(100):02d}",
        "price2": f"{rng.randrange(1, 9)},{rng.randrange(100, 999)}.{rng.randrange(100):02d}",
        "price_de": f"{rng.randrange(1, 9)}.{rng.randrange(100, 999)},{rng.randrange(100):02d}",
        "cite": f"sku:{sku}@{rng.randrange(1, 20)}#spec",
        "cite2": f"policy:returns-eu@{rng.randrange(1, 9)}#c{rng.randrange(1, 9)}",
        "order": f"{rng.randrange(10**9, 10**10)}",
        "qty": rng.randrange(1, 60),
        "ean": f"40{rng.randrange(10**10, 10**11)}",
        "w": rng.randrange(10, 900),
        "h": rng.randrange(10, 900),
        "d": rng.randrange(10, 900),
        "kg": f"{rng.randrange(1, 40)}.{rng.randrange(10)}",
        "date": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "year": rng.randrange(2019, 2027),
        "n": f"{rng.randrange(100000, 999999)}",
        "model": f"X{rng.randrange(100, 999)}",
        "mah": rng.randrange(500, 10000),
        "part": f"{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}",
    }


def clean_corpus(size: int = 300, seed: int = 7) -> list[str]:
    """Return catalog-like strings that contain no PII at all."""
    rng = random.Random(seed)
    return [CLEAN_TEMPLATES[i % len(CLEAN_TEMPLATES)].format(**_clean_values(rng)) for i in range(size)]
