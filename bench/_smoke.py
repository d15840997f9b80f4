"""The benchmarks' smoke mode: one small tenant (about 50 products) built through the services.

Smoke runs prove that a benchmark still runs end to end and writes every key it reports; their values are
not figures. The catalog is built deterministically from word lists here, like a test factory: products
with attributes and descriptions, one or two SKUs each with a price and stock, a returns policy and a
product guide, and an API key whose rate plan is above what a smoke run sends.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

TENANT = "bench-smoke"
BRANDS = ("Lumen", "Kessel", "Aurora", "Brennan", "Nordhaus")
NOUNS = ("desk lamp", "kettle", "headphones", "drill", "backpack", "blender", "monitor", "speaker", "tent", "jacket")
COLOURS = ("black", "white", "red", "blue", "green", "grey")
CATEGORIES = (("home", "Home"), ("tools", "Tools"), ("outdoor", "Outdoor"))


@dataclass(frozen=True)
class SmokeCatalog:
    tenant: object
    products: list
    raw_key: str


def _product_fields(n: int, rng: random.Random) -> dict:
    brand, noun, colour = BRANDS[n % len(BRANDS)], NOUNS[n % len(NOUNS)], rng.choice(COLOURS)
    weight, warranty = round(rng.uniform(0.2, 9.5), 1), rng.choice((1, 2, 3))
    title = f"{brand} {noun.title()} {100 + n}"
    return {
        "handle": f"smoke-{n}",
        "title": title,
        "brand": brand,
        "description": (
            f"The {title} is a {colour} {noun} from {brand}. It weighs {weight} kg and comes with a "
            f"{warranty}-year warranty. Model {100 + n} replaces the earlier {99 + n}."
        ),
        "attributes": {"colour": colour, "weight": f"{weight} kg", "warranty": f"{warranty} years"},
    }


def smoke_catalog(products: int = 50, seed: int = 5) -> SmokeCatalog:
    """Create the smoke tenant in an empty database; return it, its products and a raw API key."""
    from catalog import services
    from governance.models import ApiKey, RatePlan, hash_key
    from knowledge.services.documents import document_create
    from knowledge.services.policies import policy_create

    rng = random.Random(seed)
    tenant = services.tenant_create(slug=TENANT, name="Bench smoke", locales=["en", "de"])
    categories = [services.category_create(tenant=tenant, name=name, slug=slug) for slug, name in CATEGORIES]
    price_list = services.price_list_create(tenant=tenant, code="retail", name="Retail", currency="EUR")
    warehouse = services.warehouse_create(tenant=tenant, code="main", name="Main warehouse", country="DE")
    made = []
    for n in range(products):
        product = services.product_create(
            tenant=tenant, category=categories[n % len(categories)], **_product_fields(n, rng)
        )
        for s in range(1 + n % 2):
            sku = services.sku_create(product=product, code=f"SMK-{n:03d}-{s}", attributes={"variant": str(s)})
            services.price_set(price_list=price_list, sku=sku, amount=Decimal(rng.randrange(999, 49_999)) / 100)
            services.stock_set(sku=sku, warehouse=warehouse, quantity=rng.randrange(0, 40))
        made.append(product)
    policy_create(
        tenant=tenant, slug="returns", kind="returns", locale="en", region="EU", title="Returns",
        body="You may return any item within 30 days of delivery. Refunds are paid within 14 days.",
    )  # fmt: skip
    document_create(
        tenant=tenant, slug="care-guide", kind="guide", locale="en", title="Care guide",
        body="Clean lamps and kettles with a dry cloth. Descale a kettle every month in hard-water areas.",
    )  # fmt: skip
    RatePlan.objects.create(tenant=tenant, name="bench", requests_per_minute=1_000_000)
    prefix, raw = ApiKey.generate()
    ApiKey.objects.create(tenant=tenant, name="bench smoke", prefix=prefix, key_hash=hash_key(raw))
    return SmokeCatalog(tenant=tenant, products=made, raw_key=raw)


def smoke_questions(catalog: SmokeCatalog, count: int = 16) -> list[str]:
    """Questions a shopper would ask of the smoke catalog: attributes, the policy, and two it cannot answer."""
    asked = []
    for product in catalog.products[: count - 4]:
        attribute = ("weight", "warranty", "colour")[len(asked) % 3]
        asked.append(f"What is the {attribute} of the {product.title}?")
    return asked + [
        "How many days do I have to return an item?",
        "How do I descale the kettle?",
        "Do you sell hoverboards?",
        "What is the battery life of the Lumen Desk Lamp 999?",
    ]
