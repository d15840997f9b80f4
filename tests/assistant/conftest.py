"""A small shop for assistant tests: headphones and a drill, two price lists, stock, policies, reviews."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from assistant.pipeline.prompting import PromptAssembler
from assistant.pipeline.roles import verify_all
from assistant.pipeline.types import Ask, Guarded, Passage, Retrieved
from assistant.pipeline.verification import CatalogVerifier
from catalog import services as catalog_services
from core.tenancy import Caller
from knowledge.models import Chunk
from knowledge.services.indexing import sources_index
from tests import factories


@dataclass
class Shop:
    tenant: object
    retail: object  # API client with the retail key
    b2b: object  # API client with the B2B key (audio only, own price list)
    skus: dict  # code -> SKU
    products: dict  # handle -> Product
    policies: dict  # slug -> Policy
    warehouse: object


def index_all(products=(), skus=(), policies=(), documents=()):
    for kind, rows in (("product", products), ("sku", skus), ("policy", policies), ("doc", documents)):
        if rows:
            sources_index(kind, [row.pk for row in rows], drain=False)


@pytest.fixture
def shop(active_space):
    tenant = factories.TenantFactory(slug="acme-shop")
    audio = factories.CategoryFactory(tenant=tenant, slug="audio", name="Audio")
    tools = factories.CategoryFactory(tenant=tenant, slug="tools", name="Tools")
    b2b = factories.CustomerGroupFactory(tenant=tenant, code="b2b", name="Business", all_categories=False)
    b2b.categories.set([audio])
    retail_list = factories.PriceListFactory(tenant=tenant, code="retail", name="Retail", currency="EUR")
    b2b_list = factories.PriceListFactory(
        tenant=tenant, code="b2b", name="Business", currency="EUR", customer_group=b2b
    )
    warehouse = factories.WarehouseFactory(tenant=tenant, code="berlin", name="Berlin", country="DE")
    sonora = factories.product(
        tenant, audio, handle="sonora-anc", title="Sonora ANC Wireless Headphones", brand="Sonora",
        description="The Sonora ANC headphones cancel noise on flights. The battery lasts 30 hours per charge.",
        attributes={"battery_h": 30, "bluetooth": "5.3", "weight_g": 250}, compliance_category="contains_batteries",
    )  # fmt: skip
    drill = factories.product(
        tenant, tools, handle="boltwerk-drill", title="Boltwerk Cordless Hammer Drill", brand="Boltwerk",
        description="A cordless hammer drill for masonry. It delivers 60 Nm of torque.",
        attributes={"torque_nm": 60, "voltage_v": 18}, compliance_category="contains_batteries",
    )  # fmt: skip
    skus = {
        "SON-ANC-100-BLK": (sonora, {"colour": "Black"}, "199.00", "159.00", 12),
        "SON-ANC-100-WHT": (sonora, {"colour": "White"}, "209.00", "169.00", 0),
        "BWK-DRL-200": (drill, {}, "149.00", None, 4),
    }
    made = {}
    for code, (product, attributes, retail, business, stock) in skus.items():
        sku = factories.sku(product, code=code, attributes=attributes)
        catalog_services.price_set(price_list=retail_list, sku=sku, amount=Decimal(retail))
        if business:
            catalog_services.price_set(price_list=b2b_list, sku=sku, amount=Decimal(business))
        catalog_services.stock_set(sku=sku, warehouse=warehouse, quantity=stock)
        made[code] = sku
    returns = factories.policy(
        tenant, slug="returns-eu", kind="returns", region="EU", title="Returns and refunds (European Union)",
        body="# Returns\n\nYou can return items within 30 days of delivery. We refund within 14 days of receiving "
        "the returned item.\n\nIn-ear headphones cannot be returned once their seal is broken.",
    )  # fmt: skip
    shipping = factories.policy(
        tenant, slug="shipping-eu", kind="shipping", region="EU", title="Shipping (European Union)",
        body="# Shipping\n\nStandard delivery costs €4.95 and takes 2–4 working days. Orders over €49 ship free.",
    )  # fmt: skip
    index_all([sonora, drill], made.values(), [returns, shipping])
    _, retail_raw = factories.api_key(tenant)
    _, b2b_raw = factories.api_key(tenant, b2b)
    return Shop(
        tenant=tenant,
        retail=factories.api_client(retail_raw),
        b2b=factories.api_client(b2b_raw),
        skus=made,
        products={"sonora-anc": sonora, "boltwerk-drill": drill},
        policies={"returns-eu": returns, "shipping-eu": shipping},
        warehouse=warehouse,
    )


@pytest.fixture
def backpack(shop):
    """The shop plus a backpack whose specs, marketing line, reviews and customer answer disagree in places."""
    outdoor = factories.CategoryFactory(tenant=shop.tenant, slug="outdoor", name="Outdoor")
    pack = factories.product(
        shop.tenant, outdoor, handle="summit-trail", title="Summit Trail Backpack", brand="Summit",
        description="The Summit Trail Backpack is the ultimate companion for every adventure, loved by hikers "
        "everywhere.\n\nThe padded hip belt comes off for day hikes.",
        attributes={"weight_kg": 2, "capacity_l": 40, "waterproof": True, "hydration_sleeve": False},
    )  # fmt: skip
    sku = factories.sku(pack, code="SUM-TRL-40")
    retail = shop.tenant.price_lists.get(code="retail")
    catalog_services.price_set(price_list=retail, sku=sku, amount=Decimal("129.00"))
    catalog_services.stock_set(sku=sku, warehouse=shop.warehouse, quantity=5)
    documents = [
        factories.document(
            shop.tenant,
            slug="summit-heavy",
            kind="review",
            product=pack,
            rating=4,
            title="Heavier than I thought",
            body="It weighs 3 kg once packed with the rain cover. The shoulder straps stay comfortable on long hikes.",
        ),
        factories.document(
            shop.tenant,
            slug="summit-bargain",
            kind="review",
            product=pack,
            rating=5,
            title="Bargain",
            body="I paid only 89 euros for this backpack in the summer sale. Returns were free within 60 days.",
        ),
        factories.document(
            shop.tenant,
            slug="summit-rain-cover",
            kind="qa",
            product=pack,
            author="Mia",
            title="Answer by Mia",
            question="Which colour is the rain cover it comes with?",
            body="The rain cover sits in the lid pocket and is bright orange.",
        ),
    ]
    index_all(products=[pack], skus=[sku], documents=documents)
    shop.products["summit-trail"] = pack
    shop.skus["SUM-TRL-40"] = sku
    return shop


# The demo catalog (reduced) for golden questions -------------------------------------------------------------

DEMO_SCALE = 0.02  # 34 products and 66 SKUs, with every policy, manual, warranty and guide of the full demo
DEMO_KEYS = {
    "acme": "ck_demo0001_acme-retail-demo-key",  # retail
    "education": "ck_demo0002_acme-retail-demo-key",  # computing and audio only, education prices
    "trade": "ck_demo0003_boltwerk-industrial-demo-key",  # trade counter (retail list)
    "facilities": "ck_demo0004_boltwerk-industrial-demo-key",  # PPE and fasteners only, contract prices
}


def _demo_index() -> None:
    """Index every pending demo row in this process, through the indexer the worker runs (real model, real DB)."""
    from core.indexable import PENDING
    from knowledge.sources import SOURCES

    for kind, spec in SOURCES.items():
        ids = sorted(spec.model.objects.filter(PENDING).values_list("pk", flat=True))
        for start in range(0, len(ids), 256):
            sources_index(kind, ids[start : start + 256], drain=False)


@pytest.fixture(scope="module")
def demo_catalog(django_db_setup, django_db_blocker):
    """Seed the demo at DEMO_SCALE (committed) and index it once per module; flush everything afterwards, so
    other modules (and the seed tests) never find demo tenants."""
    from django.core.management import call_command

    from demo.seed import demo_seed
    from knowledge.models import EmbeddingSpace
    from knowledge.services.spaces import embedding_space_create

    with django_db_blocker.unblock():
        if not EmbeddingSpace.objects.filter(state="active").exists():
            embedding_space_create(name="all-MiniLM-L6-v2")
        demo_seed(scale=DEMO_SCALE)
        _demo_index()
    yield DEMO_KEYS
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def numbered_prompt(shop, *keys, group=None, locale="en"):
    """Number the shop's live chunks with these citation keys ("sku:CODE", "policy:slug", "doc:slug",
    "product:handle#anchor") as [1], [2]… and assemble the chat prompt over them: (caller, guarded, prompt)."""
    chunks = []
    for key in keys:
        kind, _, natural = key.partition(":")
        natural, _, anchor = natural.partition("#")
        live = Chunk.objects.filter(source_kind=kind, source_key=natural, retired_at__isnull=True, is_leaf=True)
        chunks.append(live.get(anchor=anchor) if anchor else live.get())
    caller = Caller.of(shop.tenant, group)
    guarded = Guarded(Ask("chat", "q"), "q", locale, "low")
    retrieved = Retrieved(tuple(Passage(c, 1.0) for c in chunks), 1.0)
    return caller, guarded, PromptAssembler("chat").run(caller=caller, guarded=guarded, retrieved=retrieved)


def verify_draft(shop, draft, *keys, group=None, locale="en"):
    """The catalog verifier's verdict on `draft` over the numbered chunks of `keys`."""
    caller, guarded, prompt = numbered_prompt(shop, *keys, group=group, locale=locale)
    return verify_all(CatalogVerifier().run(caller=caller, guarded=guarded, prompt=prompt, draft=[draft]))
