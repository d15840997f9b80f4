"""Generate a tenant's products and SKUs as plain data (no database), the same on every run.

Each category draws from its own `random.Random`, seeded from the demo seed, the tenant and the
category: a smaller `scale` yields a prefix of the same products, and adding a category never
changes the others.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from django.utils.text import slugify

DEMO_SEED = 20_240_611  # any fixed number: every machine gets the same demo catalog
SKUS_PER_PRODUCT_MAX = 6  # a product page with more variants than this is a configurator, not a demo
ZERO_STOCK_SHARE = 0.12  # about one SKU in eight is out of stock in a given warehouse
CONVERSION_RANGE = (0.004, 0.09)  # views that become orders, typical of e-commerce product pages
CENT = Decimal("0.01")
RATE = Decimal("0.0001")  # margin_rate and conversion_rate have four decimal places
# German for the attribute values that appear in German titles and descriptions.
VALUES_DE = {
    "over-ear": "Over-Ear", "in-ear": "In-Ear", "on-ear": "On-Ear",
    "bean-to-cup": "Vollautomat", "espresso": "Siebträger", "filter": "Filter", "capsule": "Kapsel",
    "steam wand": "Dampflanze", "automatic frother": "automatischer Milchaufschäumer", "none": "ohne",
    "cordless stick": "Akku-Stielsauger", "robot": "Saugroboter", "canister": "Bodenstaubsauger",
    "blender": "Standmixer", "stand mixer": "Küchenmaschine", "air fryer": "Heißluftfritteuse",
    "kettle": "Wasserkocher",
    "olive wood": "Olivenholz", "pakkawood": "Pakkaholz",
    "racing": "Renn", "shooter": "Shooter", "role-playing": "Rollen", "platformer": "Jump-'n'-Run",
    "strategy": "Strategie", "sports": "Sport",
    "zinc-plated steel": "Stahl verzinkt", "A2 stainless steel": "Edelstahl A2", "A4 stainless steel": "Edelstahl A4",
    "countersunk": "Senkkopf", "pan head": "Linsenkopf", "nitrile": "Nitril", "polyurethane": "Polyurethan",
    "clear": "klar", "grey": "grau", "yellow": "gelb", "earmuffs": "Kapselgehörschutz",
    "earplugs": "Gehörschutzstöpsel",
    "mineral oil": "Mineralöl", "synthetic": "synthetisch", "PTFE": "PTFE", "silicone": "Silikon",
    "cyanoacrylate": "Cyanacrylat", "epoxy": "Epoxid", "polyurethane construction": "PU-Montagekleber",
    "nylon": "Nylon", "steel": "Stahl", "brass": "Messing", "expansion": "Spreizdübel", "wedge": "Bolzenanker",
    "combination": "Kombizange", "needle-nose": "Spitzzange", "side cutting": "Seitenschneider",
    "water pump": "Wasserpumpenzange",
    "aluminium": "Aluminium",
}  # fmt: skip


@dataclass(frozen=True)
class Axis:
    """A variant dimension: each SKU takes one value; each later value costs `step` more (0.1 = +10 %)."""

    name: str
    values: tuple
    step: float = 0.0
    pick: int = 2  # at most this many values of the axis per product


@dataclass(frozen=True)
class CategoryDef:
    """A category, and for leaves the vocabulary its products are generated from."""

    slug: str
    name: str
    name_de: str  # Category has no translated name yet; kept so the German tree is ready when it does
    parent: str | None = None
    code: str = ""  # the SKU code segment; empty for a parent that holds no products itself
    products: int = 0  # at scale 1.0
    noun: tuple[str, str] = ("", "")  # en, de
    brands: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # model names; empty: numbered models such as "540 Pro"
    title: str = "{brand} {series} {model} {noun}, {spec}"
    spec: tuple[str, str] = ("", "")  # the title's key facts, formatted with the attributes
    pitch: tuple[str, str] = ("", "")  # the description's opening, formatted with the attributes
    notes: tuple[tuple[str, str], ...] = ()  # further (en, de) sentences; each product gets up to two
    price: tuple[float, float] = (10.0, 100.0)  # retail EUR range, drawn log-uniformly
    margin: tuple[float, float] = (0.10, 0.30)
    stock_mean: int = 40  # units per warehouse when in stock
    compliance: Callable[[dict], str] = lambda attributes: "none"
    attributes: Callable[[Random], dict] = lambda r: {}
    axes: tuple[Axis, ...] = ()


@dataclass(frozen=True)
class SkuDraft:
    code: str
    attributes: dict
    price: Decimal  # retail, EUR, VAT included
    margin_rate: Decimal
    conversion_rate: Decimal
    stock: tuple[int, ...]  # one quantity per warehouse, in the tenant's warehouse order


@dataclass(frozen=True)
class ProductDraft:
    handle: str
    category: str  # the category slug
    brand: str
    title: str
    description: str
    title_de: str
    description_de: str
    attributes: dict
    compliance_category: str
    skus: tuple[SkuDraft, ...] = field(default_factory=tuple)


def fmt(value, locale: str = "en") -> str:
    """Format an attribute value for text: 14.0 -> "14", 1.45 -> "1,45" in German, True -> "yes"/"ja"."""
    if isinstance(value, bool):
        return ("yes" if value else "no") if locale == "en" else ("ja" if value else "nein")
    if isinstance(value, float):
        text = f"{value:g}"
        return text.replace(".", ",") if locale == "de" else text
    if locale == "de" and isinstance(value, str):
        return VALUES_DE.get(value, value)
    return str(value)


def _fill(template: str, values: dict, locale: str) -> str:
    return template.format(**{k: fmt(v, locale) for k, v in values.items()}) if template else ""


def value_code(value) -> str:
    """Return the SKU code part of a variant value: 16 -> "16", "Space Grey" -> "SG", "4 x 40 mm" -> "4X40MM"."""
    text = fmt(value).replace(".", "")
    if text[:1].isdigit():
        return re.sub(r"[^0-9A-Za-z]", "", text).upper()[:8]
    tokens = re.findall(r"[A-Za-z]+|[0-9]+", text)
    if len(tokens) == 1:
        return tokens[0][:3].upper()
    return "".join(t if t.isdigit() else t[0] for t in tokens).upper()[:8]


def _model(r: Random, category: CategoryDef) -> str:
    if category.models:
        return r.choice(category.models)
    number = r.randint(1, 9) * 100 + r.choice((0, 10, 20, 50, 60, 80))
    return f"{number}{r.choice(('', '', '', ' Pro', ' Plus', ' Lite', ' Max'))}"


def _money(value: float) -> Decimal:
    """Round a retail price the way shops do: x.99 above 10 EUR, to 0.49 or 0.99 below."""
    if value >= 10:
        return Decimal(int(value)) + Decimal("0.99")
    return (Decimal(int(value * 2)) / 2 + Decimal("0.49")).quantize(CENT)


def _rate(value: float) -> Decimal:
    return Decimal(str(value)).quantize(RATE, rounding=ROUND_HALF_UP)


def _variants(r: Random, axes: tuple[Axis, ...]) -> list[tuple[tuple[Axis, int], ...]]:
    """Pick some values of each axis (in catalog order) and return their combinations, capped."""
    chosen = []
    for axis in axes:
        count = r.randint(1, min(axis.pick, len(axis.values)))
        positions = sorted(r.sample(range(len(axis.values)), count))
        chosen.append([(axis, i) for i in positions])
    return list(itertools.product(*chosen))[:SKUS_PER_PRODUCT_MAX]


def _sku(r: Random, category: CategoryDef, base: str, price: float, combo, warehouses: int) -> SkuDraft:
    attributes = {axis.name: axis.values[i] for axis, i in combo}
    factor = 1.0
    for axis, i in combo:
        factor *= 1 + axis.step * i
    code = "-".join([base, *(value_code(axis.values[i]) for axis, i in combo)])
    stock = tuple(
        0 if r.random() < ZERO_STOCK_SHARE else 1 + int(r.expovariate(1 / category.stock_mean))
        for _ in range(warehouses)
    )
    return SkuDraft(
        code=code,
        attributes=attributes,
        price=_money(price * factor),
        margin_rate=_rate(r.uniform(*category.margin)),
        conversion_rate=_rate(r.uniform(*CONVERSION_RANGE) * r.choice((0.5, 1.0, 1.0, 1.5))),
        stock=stock,
    )


def _product(r: Random, category: CategoryDef, prefix: str, number: int, warehouses: int) -> ProductDraft:
    attributes = category.attributes(r)
    brand, series, model = r.choice(category.brands), r.choice(category.series), _model(r, category)
    notes = r.sample(category.notes, min(len(category.notes), r.randint(1, 2)))
    texts = {}
    for i, locale in enumerate(("en", "de")):
        values = {**attributes, "brand": brand, "series": series, "model": model, "noun": category.noun[i]}
        values["spec"] = _fill(category.spec[i], values, locale)
        values["name"] = f"{brand} {series} {model} {category.noun[i]}"
        title = re.sub(r"\s+,", ",", " ".join(_fill(category.title, values, locale).split())).strip(" ,")
        values["title"] = title
        sentences = [_fill(category.pitch[i], values, locale), *(_fill(n[i], values, locale) for n in notes)]
        texts[locale] = (title, " ".join(s[0].upper() + s[1:] for s in sentences if s))
    low, high = category.price
    price = low * (high / low) ** r.random()
    base = f"{prefix}-{category.code}{number:04d}"
    skus = tuple(_sku(r, category, base, price, combo, warehouses) for combo in _variants(r, category.axes))
    short = slugify(f"{brand} {series} {model}")[:80].strip("-")
    return ProductDraft(
        handle=f"{short}-{category.code.lower()}{number:04d}",
        category=category.slug,
        brand=brand,
        title=texts["en"][0],
        description=texts["en"][1],
        title_de=texts["de"][0],
        description_de=texts["de"][1],
        attributes=attributes,
        compliance_category=category.compliance(attributes),
        skus=skus,
    )


def products_count(category: CategoryDef, scale: float) -> int:
    """Products of a leaf category at this scale: at least one, so every category has something to show."""
    return max(1, round(category.products * scale)) if category.code else 0


def products_generate(
    *, tenant_slug: str, prefix: str, categories: tuple[CategoryDef, ...], scale: float, warehouses: int
) -> list[ProductDraft]:
    """Return the tenant's products in a fixed order; raise ValueError if two SKUs would share a code."""
    drafts = []
    for category in categories:
        r = Random(f"{DEMO_SEED}:{tenant_slug}:{category.slug}")
        drafts += [_product(r, category, prefix, n, warehouses) for n in range(1, products_count(category, scale) + 1)]
    codes = [sku.code for d in drafts for sku in d.skus]
    if len(codes) != len(set(codes)):
        raise ValueError(f"duplicate SKU codes in the {tenant_slug} demo vocabulary")
    return drafts
