"""import_catalog: the sample feed, re-runs that change nothing, deletes, CSV folders, batched indexing."""

import base64
import json
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from catalog.models import SKU, Category, CustomerGroup, Price, PriceList, Product, StockLevel, Warehouse
from config.celery import app
from core.indexable import INDEX_BATCH
from knowledge.ingestion.apply import apply
from knowledge.ingestion.formats import feed_schema, record_types, validate_record
from knowledge.ingestion.progress import no_progress
from knowledge.models import Document, IngestionRun, PolicyVersion, ProductMedia
from tests import factories
from tests.knowledge.ingestion_helpers import (
    SAMPLE_FEED,
    index_state,
    nothing_pending,
    run_import,
    stored_state,
    write_feed,
)
from tests.worker import QUEUE, purge_queue, queued, wait_until

committed = pytest.mark.django_db(transaction=True)


def _catalog(tenant, products: int, price: str = "10.00", quantity: int = 5) -> list[dict]:
    records = [
        {"type": "category", "path": "tools", "name": "Tools"},
        {"type": "category", "path": "tools/drills", "name": "Drills"},
        {"type": "price_list", "code": "retail", "name": "Retail", "currency": "EUR"},
        {"type": "warehouse", "code": "main", "name": "Main"},
    ]
    for n in range(products):
        records += [
            {"type": "product", "handle": f"drill-{n}", "category": "tools/drills", "title": f"Drill {n}",
             "description": f"Cordless drill number {n} with a {n % 5 + 1} Ah battery.", "attributes": {"n": n}},
            {"type": "sku", "code": f"DR-{n}", "product": f"drill-{n}", "attributes": {"colour": "red"}},
            {"type": "price", "price_list": "retail", "sku": f"DR-{n}", "amount": price},
            {"type": "stock", "warehouse": "main", "sku": f"DR-{n}", "quantity": quantity},
        ]  # fmt: skip
    return records


@pytest.mark.django_db
def test_import_catalog__the_sample_feed_imports_cleanly(tmp_path):
    tenant = factories.TenantFactory()

    ok, out = run_import(SAMPLE_FEED, tenant, "--report", str(tmp_path / "report.csv"))

    assert ok, out
    kettle = Product.objects.get(tenant=tenant, handle="aster-kettle")
    assert kettle.category.parent.slug == "kitchen" and kettle.attributes["power_w"] == 2200
    assert kettle.translations.get(locale="de").title == "Aster Wasserkocher 1,7 l"
    assert list(ProductMedia.objects.filter(product=kettle).values_list("url", flat=True))[0].endswith("front.jpg")
    assert SKU.objects.filter(tenant=tenant).count() == 4
    assert str(Price.objects.get(sku__code="VERDE-25").amount) == "34.50"
    assert StockLevel.objects.filter(warehouse__tenant=tenant).count() == 5
    trade = CustomerGroup.objects.get(tenant=tenant, code="trade-kitchen")
    assert not trade.all_categories and [c.slug for c in trade.categories.all()] == ["kitchen"]
    assert PriceList.objects.get(tenant=tenant, code="trade-eur").customer_group == trade
    assert PolicyVersion.objects.filter(policy__tenant=tenant).count() == 2
    guide = Document.objects.get(tenant=tenant, slug="aster-kettle-descaling")
    assert "white vinegar" in guide.body and guide.product == kettle
    review = Document.objects.get(tenant=tenant, kind="review", author="Mara K.")
    assert review.rating == 5 and review.product == kettle
    assert "new" in out and "done" in out


@pytest.mark.django_db
def test_import_catalog__dry_run_prints_the_diff_and_writes_nothing(tmp_path):
    tenant = factories.TenantFactory()

    ok, out = run_import(SAMPLE_FEED, tenant, "--dry-run", "--report", str(tmp_path / "r.csv"))

    assert ok, out
    assert "first changes:" in out and "aster-kettle" in out and "nothing was applied" in out
    assert not Product.objects.filter(tenant=tenant).exists() and not Category.objects.filter(tenant=tenant).exists()
    assert IngestionRun.objects.get(tenant=tenant).state == "decided"

    records = _catalog(tenant, 2)
    run_import(write_feed(tmp_path / "a.jsonl", records), tenant)
    records[4] = {**records[4], "title": "Drill zero, renamed", "description": "New text."}
    ok, out = run_import(write_feed(tmp_path / "b.jsonl", records), tenant, "--dry-run")
    assert ok and "changed  product         drill-0  (b.jsonl:5): title, description" in out
    assert Product.objects.get(tenant=tenant, handle="drill-0").title == "Drill 0"


@pytest.mark.django_db
def test_import_catalog__an_edit_is_applied_and_unchanged_rows_are_left_alone(tmp_path):
    tenant = factories.TenantFactory()
    records = _catalog(tenant, 3)
    run_import(write_feed(tmp_path / "a.jsonl", records), tenant)
    before = stored_state(tenant)
    records[4] = {**records[4], "title": "Drill zero, renamed"}
    records[6] = {**records[6], "amount": "12.00"}

    ok, out = run_import(write_feed(tmp_path / "b.jsonl", records), tenant)

    assert ok, out
    after = stored_state(tenant)
    changed = {h for h, *_ in after["products"]} and set(after["products"]) - set(before["products"])
    assert [h for h, *_ in changed] == ["drill-0"]
    assert after["skus"][1:] == before["skus"][1:]  # DR-1, DR-2 untouched (DR-0 re-indexes with its product)
    assert str(Price.objects.get(sku__code="DR-0").amount) == "12.00"
    run = IngestionRun.objects.filter(tenant=tenant).first()
    assert run.counts["product"] == {"changed": 1, "unchanged": 2} and run.counts["price"]["changed"] == 1


@pytest.mark.django_db
def test_import_catalog__tombstones_delete_and_prune_deletes_what_the_feed_omits(tmp_path):
    tenant = factories.TenantFactory()
    records = _catalog(tenant, 3)
    run_import(write_feed(tmp_path / "a.jsonl", records), tenant)

    ok, out = run_import(write_feed(tmp_path / "b.jsonl", [{"type": "sku", "code": "DR-2", "deleted": True}]), tenant)
    assert ok, out
    assert not SKU.objects.filter(code="DR-2").exists() and Product.objects.filter(handle="drill-2").exists()

    kept = [r for r in records if r.get("handle") != "drill-1" and "DR-1" not in (r.get("code"), r.get("sku"))]
    ok, out = run_import(write_feed(tmp_path / "c.jsonl", kept), tenant, "--prune")
    assert ok, out
    assert sorted(Product.objects.filter(tenant=tenant).values_list("handle", flat=True)) == ["drill-0", "drill-2"]
    assert not SKU.objects.filter(code="DR-1").exists() and SKU.objects.filter(code="DR-2").exists()  # re-created
    assert Warehouse.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
def test_import_catalog__takes_records_in_any_order(tmp_path):
    tenant = factories.TenantFactory()
    records = list(reversed(_catalog(tenant, 2)))  # stock first, the root category last

    ok, out = run_import(write_feed(tmp_path / "feed.jsonl", records), tenant)

    assert ok, out
    assert Category.objects.get(tenant=tenant, slug="drills").parent.slug == "tools"
    assert StockLevel.objects.filter(sku__tenant=tenant).count() == 2


@pytest.mark.django_db
def test_import_catalog__reads_a_folder_of_csv_files_typed_by_name_or_column(tmp_path):
    tenant = factories.TenantFactory()
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "categories.csv").write_text("\ufeffpath,name\r\ngarden,Garden\r\n", encoding="utf-8")  # as Excel saves
    (feed / "products.csv").write_text(
        'handle,category,title,attributes,is_active\nhose,garden,Hose 25 m,"{""length_m"": 25}",true\n'
    )
    (feed / "mixed.csv").write_text(
        "type,code,product,warehouse,sku,quantity\nsku,HOSE-25,hose,,,\nstock,,,lyo,HOSE-25,7\n"
    )
    (feed / "warehouses.csv").write_text("code,name,country\nlyo,Lyon,FR\n")

    ok, out = run_import(feed, tenant)

    assert ok, out
    hose = Product.objects.get(tenant=tenant, handle="hose")
    assert hose.attributes == {"length_m": 25} and hose.is_active
    assert StockLevel.objects.get(sku__code="HOSE-25", warehouse__code="lyo").quantity == 7
    assert Warehouse.objects.get(tenant=tenant, code="lyo").country == "FR"


def _queued_index_tasks() -> list[tuple[str, list[int]]]:
    """The indexing tasks waiting in the broker (the beat's periodic tasks left out)."""
    with app.connection_for_read() as connection:
        messages = connection.default_channel.client.lrange(QUEUE, 0, -1)
    envelopes = [json.loads(m) for m in messages]
    return [
        tuple(json.loads(base64.b64decode(e["body"]))[0])
        for e in envelopes
        if e["headers"]["task"] == "knowledge.tasks.sources_index"
    ]


@committed
def test_import_catalog__schedules_indexing_in_batches_that_fill_the_encoder(tmp_path, worker):
    worker.pause()  # tasks stay in the queue, to be counted
    purge_queue()
    tenant = factories.TenantFactory()

    ok, out = run_import(write_feed(tmp_path / "feed.jsonl", _catalog(tenant, 600)), tenant)

    assert ok, out
    tasks = _queued_index_tasks()
    purge_queue()
    sizes = {kind: sorted(len(ids) for k, ids in tasks if k == kind) for kind in ("product", "sku")}
    # 600 products and 600 SKUs: tasks of up to INDEX_BATCH rows, one per apply batch and kind, not one per row
    assert sizes["product"] == [600 - INDEX_BATCH, INDEX_BATCH] and sum(sizes["sku"]) == 600 and len(sizes["sku"]) <= 3
    assert max(len(ids) for _, ids in tasks) == INDEX_BATCH


@committed
def test_import_catalog__a_rerun_changes_nothing_and_embeds_nothing(tmp_path, active_space, live_worker):
    tenant = factories.TenantFactory(slug="rerun-shop")
    assert run_import(SAMPLE_FEED, tenant, "--report", str(tmp_path / "1.csv"))[0]
    wait_until(nothing_pending, 90, message="the sample feed indexed")
    stored, indexed = stored_state(tenant), index_state(tenant)
    assert indexed["embeddings"]

    ok, out = run_import(SAMPLE_FEED, tenant, "--report", str(tmp_path / "2.csv"))

    assert ok, out
    assert "applied 0 rows" in out
    rerun = IngestionRun.objects.filter(tenant=tenant).first()  # the newest
    assert set(rerun.records.values_list("action", flat=True)) == {"unchanged"}
    wait_until(lambda: queued() == 0, 30, message="an empty queue")
    assert nothing_pending()
    assert stored_state(tenant) == stored and index_state(tenant) == indexed


@committed
def test_import_catalog__price_and_stock_changes_embed_nothing(tmp_path, active_space, live_worker):
    tenant = factories.TenantFactory(slug="price-shop")
    assert run_import(write_feed(tmp_path / "a.jsonl", _catalog(tenant, 5)), tenant)[0]
    wait_until(nothing_pending, 90, message="the catalog indexed")
    indexed = index_state(tenant)

    ok, out = run_import(write_feed(tmp_path / "b.jsonl", _catalog(tenant, 5, price="99.99", quantity=0)), tenant)

    assert ok, out
    assert set(Price.objects.filter(sku__tenant=tenant).values_list("amount", flat=True)) == {Decimal("99.99")}
    assert set(StockLevel.objects.filter(sku__tenant=tenant).values_list("quantity", flat=True)) == {0}
    assert nothing_pending()  # no source row changed: nothing to embed
    wait_until(lambda: queued() == 0, 30, message="an empty queue")
    assert index_state(tenant) == indexed


def test_feed_schema__is_a_valid_json_schema_and_accepts_every_sample_line():
    Draft202012Validator.check_schema(feed_schema())
    validator = Draft202012Validator(feed_schema())
    records = [json.loads(line) for line in SAMPLE_FEED.read_text().splitlines()]
    assert all(validate_record(r) == [] and validator.is_valid(r) for r in records)
    assert {r["type"] for r in records} == set(record_types())  # the sample shows every record type
    assert not validator.is_valid({"type": "price", "price_list": "retail", "sku": "A-1", "amount": -1})


@pytest.mark.django_db
def test_apply__a_bulk_insert_the_database_refuses_is_written_row_by_row(tmp_path):
    tenant = factories.TenantFactory()
    feed = write_feed(tmp_path / "feed.jsonl", _catalog(tenant, 3))
    assert run_import(feed, tenant, "--dry-run")[0]
    run = IngestionRun.objects.get(tenant=tenant)
    factories.product(tenant, handle="drill-1", title="Made after the decision")  # the bulk insert now collides

    report = apply(run, feed, no_progress)

    assert (report.applied, report.failed) == (16, 0)
    assert Product.objects.get(tenant=tenant, handle="drill-1").title == "Drill 1"  # updated, not duplicated
    assert Product.objects.filter(tenant=tenant).count() == 3 and SKU.objects.filter(tenant=tenant).count() == 3
