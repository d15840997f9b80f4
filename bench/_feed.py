"""The import benchmark's feeds: a generated catalog as feed records, and a feed that changes every price.

Products, categories, attributes and prices come from the search benchmark's generator; each product's title
ends in a model suffix unique to the run (a random tag and its number), so no product, SKU or document text
matches one indexed before and the indexer embeds every text. Each product has three SKUs with a price and a
stock level, and every fifth product a manual (a few hundred tokens: a section or two). No Django here.
"""

import json
import random
import string
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from _searchdata import Generator, categories

SKUS_PER_PRODUCT = 3
DOCUMENT_EVERY = 5  # one manual per five products
PRICE_LIST, WAREHOUSE = "retail", "main"
PRICE_STEP = Decimal("1.00")  # what the price feed adds to every price
MANUAL_SECTIONS = (
    ("Getting started", (
        "Unpack the {title} and check that every part listed on the box is there.",
        "Charge or connect the {noun} fully before the first use; this takes about {hours} hours.",
        "Register the {brand} product online to extend the warranty by one year.",
        "Keep the packaging until you are sure the {noun} works as expected.",
    )),
    ("Use", (
        "The {series} range is designed for {use}; do not use the {noun} outdoors in the rain.",
        "Switch the {noun} off before you change an accessory or clean it.",
        "For long sessions, let the {noun} rest for {minutes} minutes every hour.",
        "The indicator light turns green when the {noun} is ready and red when it needs attention.",
    )),
    ("Care and maintenance", (
        "Wipe the housing with a dry cloth; never immerse the {noun} in water.",
        "Check the cable and plug for damage before every use.",
        "Store the {noun} in a dry place between {low} and {high} degrees Celsius.",
        "Spare parts for the {brand} {series} are available from our service centre.",
    )),
    ("Troubleshooting", (
        "If the {noun} does not start, check the power supply and the safety switch.",
        "A rattling noise usually means that an accessory is loose; tighten it and try again.",
        "If the problem persists, contact {brand} service with the model number {model}.",
        "Do not open the housing yourself: this voids the warranty.",
    )),
)  # fmt: skip


@dataclass(frozen=True)
class SkuRow:
    code: str
    amount: Decimal


@dataclass(frozen=True)
class Feed:
    path: Path
    lines: int
    skus: list[SkuRow]  # in the feed's order (the price lines' order)


def run_tag(rng: random.Random) -> str:
    """Three letters and a digit: with the product number, a model suffix no earlier run used."""
    return "".join(rng.choices(string.ascii_uppercase, k=3)) + str(rng.randrange(10))


def category_records() -> tuple[list[dict], dict[str, str]]:
    """Every category as a feed record (parents first) and the path of each slug."""
    paths, records = {}, []
    for name, slug, parent in categories():
        paths[slug] = f"{paths[parent]}/{slug}" if parent else slug
        records.append({"type": "category", "path": paths[slug], "name": name})
    return records, paths


def manual_body(product, rng: random.Random) -> str:
    """Three or four sections of three sentences each about the product (markdown)."""
    words = {
        "title": product.title, "noun": product.leaf.noun.lower(), "brand": product.brand,
        "series": product.title.split()[1], "model": product.title.split()[-1], "use": rng.choice(USES),
        "hours": rng.choice((2, 3, 4)), "minutes": rng.choice((10, 15, 20)), "low": rng.choice((0, 5)),
        "high": rng.choice((30, 35, 40)),
    }  # fmt: skip
    sections = rng.sample(MANUAL_SECTIONS, rng.choice((3, 4)))
    parts = [f"# {product.title}: user manual"]
    for heading, sentences in sections:
        parts.append(f"## {heading}\n\n" + " ".join(s.format(**words) for s in rng.sample(sentences, 3)))
    return "\n\n".join(parts)


USES = ("everyday use", "the workshop", "small flats", "busy kitchens", "job sites", "home offices", "travel")


def catalog_feed(path: Path, products: int, seed: int) -> Feed:
    """Write the catalog feed (JSON Lines) for `products` products; return it with its SKUs and prices."""
    rng = random.Random(seed)
    tag, generator = run_tag(rng), Generator(tenant_no=seed)
    category_lines, paths = category_records()
    head = [
        *category_lines,
        {"type": "price_list", "code": PRICE_LIST, "name": "Retail", "currency": "EUR"},
        {"type": "warehouse", "code": WAREHOUSE, "name": "Main warehouse", "country": "DE"},
    ]
    groups: dict[str, list[dict]] = {"product": [], "sku": [], "price": [], "stock": [], "document": []}
    skus = []
    for n in range(products):
        draft = generator.product(n)
        draft.title = f"{draft.title} {tag}{n}"
        groups["product"].append({
            "type": "product", "handle": f"{draft.handle}-{tag.lower()}", "category": paths[draft.leaf.slug],
            "title": draft.title, "brand": draft.brand, "description": draft.description,
            "attributes": draft.attributes, "compliance_category": draft.compliance,
        })  # fmt: skip
        handle = groups["product"][-1]["handle"]
        for sku in draft.skus[:SKUS_PER_PRODUCT]:
            code = f"{sku.code}-{tag}"
            groups["sku"].append({"type": "sku", "code": code, "product": handle, "attributes": sku.attributes})
            groups["price"].append({"type": "price", "price_list": PRICE_LIST, "sku": code, "amount": str(sku.retail)})
            groups["stock"].append({"type": "stock", "warehouse": WAREHOUSE, "sku": code, "quantity": sum(sku.stock)})
            skus.append(SkuRow(code, sku.retail))
        if n % DOCUMENT_EVERY == 0:
            groups["document"].append({
                "type": "document", "slug": f"manual-{handle}"[:100], "kind": "manual", "format": "markdown",
                "title": f"{draft.title}: user manual", "product": handle, "body": manual_body(draft, rng),
            })  # fmt: skip
    records = head + [record for group in groups.values() for record in group]
    return Feed(write_lines(path, records), len(records), skus)


def price_feed(path: Path, skus: list[SkuRow]) -> Feed:
    """Write a feed of price lines only, every SKU's price raised by PRICE_STEP; return it with the new prices."""
    raised = [SkuRow(s.code, s.amount + PRICE_STEP) for s in skus]
    records = [{"type": "price", "price_list": PRICE_LIST, "sku": s.code, "amount": str(s.amount)} for s in raised]
    return Feed(write_lines(path, records), len(records), raised)


def write_lines(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path
