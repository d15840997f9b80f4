"""export_catalog writes what import_catalog reads: exported, then imported into an empty tenant, a catalog is equal."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalog import services as catalog_services
from catalog.models import Tenant
from demo.seed import DEMO_SLUGS, demo_seed
from knowledge.ingestion.formats import validate_record
from knowledge.services.documents import document_create
from knowledge.services.policies import policy_update
from knowledge.services.product_media import product_media_set
from tests import factories
from tests.knowledge.ingestion_helpers import catalog_records, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Keep uploaded PDFs out of the shared media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def _small_catalog(tenant):
    """Every record type, with translations, media, entitlements, rates, policy versions, a PDF, reviews and Q&A."""
    tools = catalog_services.category_create(tenant=tenant, name="Tools", slug="tools")
    drills = catalog_services.category_create(tenant=tenant, name="Drills", slug="drills", parent=tools)
    garden = catalog_services.category_create(tenant=tenant, name="Garden", slug="garden")
    trade = catalog_services.customer_group_create(
        tenant=tenant, code="trade", name="Trade", all_categories=False, categories=[drills]
    )
    factories.CustomerGroupFactory(tenant=tenant, code="retail", name="Retail")
    retail_list = factories.PriceListFactory(tenant=tenant, code="retail-eur", currency="EUR")
    trade_list = factories.PriceListFactory(tenant=tenant, code="trade-eur", currency="EUR", customer_group=trade)
    main, south = factories.WarehouseFactory(tenant=tenant, code="main"), factories.WarehouseFactory(tenant=tenant)
    drill = factories.product(tenant, drills, handle="drill", title="Cordless drill", description="18 V, 2 batteries.",
                              attributes={"voltage_v": 18, "chuck_mm": 13.0}, compliance_category="contains_batteries",
                              translations={"de": {"title": "Akku-Bohrschrauber", "description": "18 V."}})  # fmt: skip
    product_media_set(drill, ["https://cdn.example.com/drill.jpg", "https://cdn.example.com/drill-2.jpg"])
    hose = factories.product(tenant, garden, handle="hose", title="Hose", is_active=False)
    skus = [
        factories.sku(drill, code="DR-18-A", attributes={"kit": "2 Ah"}, margin_rate=Decimal("0.3125")),
        factories.sku(drill, code="DR-18-B", conversion_rate=Decimal("0.0450"), is_active=False),
        factories.sku(hose, code="HOSE-25"),
    ]
    for n, sku in enumerate(skus):
        catalog_services.price_set(price_list=retail_list, sku=sku, amount=Decimal(f"{10 + n}.99"))
        catalog_services.stock_set(sku=sku, warehouse=main, quantity=n)
    catalog_services.price_set(price_list=trade_list, sku=skus[0], amount=Decimal("8.10"))
    catalog_services.stock_set(sku=skus[0], warehouse=south, quantity=40)
    returns = factories.policy(tenant, slug="returns-eu", title="Returns", body="30 days.")
    policy_update(returns, body="30 days, free return shipping.")
    factories.policy(
        tenant, slug="versand-de", kind="shipping", locale="de", region="DE", title="Versand", body="2 Tage."
    )
    factories.document(tenant, slug="drill-guide", title="Drill guide", body="# Bits\n\nUse HSS bits.", product=drill)
    document_create(tenant=tenant, slug="drill-manual", kind="manual", format="pdf", title="Drill manual",
                    upload=factories.pdf_bytes("Charge the battery fully before first use"), filename="m.pdf",
                    product=drill)  # fmt: skip
    factories.document(
        tenant, slug="care-de", kind="guide", format="text", locale="de", title="Pflege", body="Trocken."
    )
    document_create(tenant=tenant, slug="review-1", kind="review", format="text", title="Strong", product=drill,
                    body="Strong and light.", author="Ana", rating=5)  # fmt: skip
    document_create(tenant=tenant, slug="review-2", kind="review", format="text", title="Leaks", product=hose,
                    body="It leaks at the tap.", author="Ben")  # fmt: skip
    document_create(tenant=tenant, slug="drill-qa", kind="qa", format="text", title="Answer by Shop", product=drill,
                    question="Does it take 10 mm bits?", body="Yes: the chuck holds 13 mm.", author="Shop")  # fmt: skip
    document_create(tenant=tenant, slug="hose-qa", kind="qa", format="text", title="Customer answer", product=hose,
                    body="It fits standard taps.")  # fmt: skip


def _export(tenant, path) -> list[dict]:
    call_command("export_catalog", "--tenant", tenant.slug, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_catalog__a_small_catalog_re_imports_identically_into_an_empty_tenant(tmp_path):
    source, copy = factories.TenantFactory(slug="source-shop"), factories.TenantFactory(slug="copy-shop")
    _small_catalog(source)

    records = _export(source, tmp_path / "export.jsonl")
    ok, out = run_import(tmp_path / "export.jsonl", copy)

    assert ok, out
    assert all(validate_record(r) == [] for r in records)
    assert {r["type"] for r in records} == set(catalog_records(source))  # every type is exercised
    assert (tmp_path / "files" / "drill-manual.pdf").read_bytes().startswith(b"%PDF-")
    assert catalog_records(copy) == catalog_records(source)
    ok, out = run_import(tmp_path / "export.jsonl", copy)  # and the copy equals the feed: nothing to do
    assert ok and "applied 0 rows" in out


def test_export_catalog__the_demo_catalog_re_imports_identically(tmp_path):
    demo_seed(scale=0.05)
    for source in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        copy = factories.TenantFactory(slug=f"{source.slug}-copy", default_locale=source.default_locale)
        records = _export(source, tmp_path / f"{source.slug}.jsonl")
        ok, out = run_import(tmp_path / f"{source.slug}.jsonl", copy)
        assert ok, out
        held = {record_type for record_type, rows in catalog_records(source).items() if rows}
        assert len(records) > 400 and {r["type"] for r in records} == held
        assert catalog_records(copy) == catalog_records(source)
