"""Prices and stock are read live: a change reaches search filters at once and embeds nothing.

Prices and stock levels are part of no passage; search filters and answers read them in SQL. So a price or
stock change, through the services, the admin or a feed, changes no indexed row and sends no indexing task.
(Answers: tests/assistant/test_answer_cache.py.)
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from celery.signals import before_task_publish

from catalog import services
from catalog.models import SKU, Price, PriceList, Product, StockLevel, Warehouse
from core.indexable import INDEX_TASK
from knowledge.services.indexing import sources_index
from tests import factories
from tests.knowledge.ingestion_helpers import index_state, nothing_pending, run_import, write_feed
from tests.test_admin import admin_url, browser_form, form_errors, login_editor

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search/"


@pytest.fixture
def index_tasks():
    """The (kind, ids) of every indexing task sent to the broker during the test."""
    sent = []

    def record(sender=None, body=None, **kwargs):
        if sender == INDEX_TASK:
            sent.append(tuple(body[0]))  # message protocol 2: body is (args, kwargs, embed)

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


@dataclass
class Store:
    tenant: object
    price_list: PriceList
    warehouse: Warehouse
    skus: list[SKU]
    client: object


def _indexed_rows(tenant) -> dict:
    """Each product's and SKU's version and hashes: what an indexing-relevant change would move."""
    return {
        "products": sorted(Product.objects.filter(tenant=tenant).values_list("pk", "version", "content_hash")),
        "skus": sorted(SKU.objects.filter(tenant=tenant).values_list("pk", "version", "content_hash")),
    }


def _store(products: int, skus_per_product: int = 1) -> Store:
    """A catalog indexed in this process: each SKU at 100.00 plus its number, 5 in stock."""
    tenant = factories.TenantFactory()
    category = factories.CategoryFactory(tenant=tenant, slug="kettles", name="Kettles")
    price_list = factories.PriceListFactory(tenant=tenant, code="retail", currency="EUR")
    warehouse = factories.WarehouseFactory(tenant=tenant, code="main", name="Main", country="DE")
    made, skus = [], []
    for n in range(products):
        product = factories.product(
            tenant, category, handle=f"kettle-{n}", title=f"Aqua kettle {n}", brand="Brew",
            description=f"An electric kettle, model {n}, boils 1.7 litres.",
        )  # fmt: skip
        made.append(product)
        for s in range(skus_per_product):
            sku = factories.sku(product, code=f"KET-{n}-{s}", attributes={"colour": ("red", "blue", "grey")[s % 3]})
            services.price_set(price_list=price_list, sku=sku, amount=Decimal(100 + len(skus)))
            services.stock_set(sku=sku, warehouse=warehouse, quantity=5)
            skus.append(sku)
    sources_index("product", [p.pk for p in made], drain=False)
    sources_index("sku", [s.pk for s in skus], drain=False)
    _, raw = factories.api_key(tenant)
    return Store(tenant, price_list, warehouse, skus, factories.api_client(raw))


def _sku_hits(store: Store, code: str, **filters) -> list[str]:
    response = store.client.get(SEARCH, {"q": f"{code} kettle", "page_size": 50, **filters})
    assert response.status_code == 200, response.content
    return [hit["citation_id"] for hit in response.json()["results"] if hit["kind"] == "sku"]


def _priced(amount: str) -> dict:
    return {"price_min": amount, "price_max": amount}


def test_price_and_stock_services__change_no_indexed_row_and_send_no_task(
    active_space, index_tasks, django_capture_on_commit_callbacks
):
    store = _store(2)
    rows, indexed = _indexed_rows(store.tenant), index_state(store.tenant)
    first, second = store.skus

    with django_capture_on_commit_callbacks(execute=True):
        services.price_set(price_list=store.price_list, sku=first, amount=Decimal("79.90"))
        services.stock_set(sku=first, warehouse=store.warehouse, quantity=0)
        services.price_delete(price_list=store.price_list, sku=second)
        services.stock_delete(sku=second, warehouse=store.warehouse)

    assert Price.objects.get(sku=first).amount == Decimal("79.90") and not Price.objects.filter(sku=second).exists()
    assert StockLevel.objects.get(sku=first).quantity == 0 and not StockLevel.objects.filter(sku=second).exists()
    assert index_tasks == [] and nothing_pending()
    assert _indexed_rows(store.tenant) == rows and index_state(store.tenant) == indexed
    with django_capture_on_commit_callbacks(execute=True):  # the control: a text change is sent at once
        services.sku_update(first, attributes={"colour": "black"})
    assert index_tasks == [("sku", [first.pk])]


def test_search__price_and_stock_filters_read_the_changed_values_at_once(active_space, index_tasks):
    store = _store(2)
    sku, indexed = store.skus[0], index_state(store.tenant)
    citation = f"sku:{sku.code}@1#spec"
    assert _sku_hits(store, sku.code, **_priced("100.00")) == [citation]
    assert citation in _sku_hits(store, sku.code, in_stock="true")

    services.price_set(price_list=store.price_list, sku=sku, amount=Decimal("64.50"))
    services.stock_set(sku=sku, warehouse=store.warehouse, quantity=0)

    assert _sku_hits(store, sku.code, **_priced("64.50")) == [citation]
    assert _sku_hits(store, sku.code, **_priced("100.00")) == []
    assert citation not in _sku_hits(store, sku.code, in_stock="true")
    assert citation in _sku_hits(store, sku.code, in_stock="false")
    assert index_state(store.tenant) == indexed and nothing_pending()


def test_sku_admin__a_price_and_stock_edit_changes_no_indexed_row_and_sends_no_task(
    client, active_space, index_tasks, django_capture_on_commit_callbacks
):
    login_editor(client)
    store = _store(1)
    sku, rows, indexed = store.skus[0], _indexed_rows(store.tenant), index_state(store.tenant)
    url = admin_url(sku, "change")
    data = browser_form(client, url)
    assert data["prices-0-amount"] == "100.00" and data["stock_levels-0-quantity"] == "5"
    data.update({"prices-0-amount": "89.00", "stock_levels-0-quantity": "0", "_save": "Save"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    assert Price.objects.get(sku=sku).amount == Decimal("89.00") and StockLevel.objects.get(sku=sku).quantity == 0
    assert index_tasks == [] and nothing_pending()
    assert _indexed_rows(store.tenant) == rows and index_state(store.tenant) == indexed


def test_sku_admin__deleting_a_price_and_a_stock_row_sends_no_task(
    client, active_space, index_tasks, django_capture_on_commit_callbacks
):
    login_editor(client)
    store = _store(1)
    sku, rows = store.skus[0], _indexed_rows(store.tenant)
    url = admin_url(sku, "change")
    data = browser_form(client, url)
    data.update({"prices-0-DELETE": "on", "stock_levels-0-DELETE": "on", "_save": "Save"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    assert not Price.objects.filter(sku=sku).exists() and not StockLevel.objects.filter(sku=sku).exists()
    assert index_tasks == [] and _indexed_rows(store.tenant) == rows and nothing_pending()


def _price_lines(store: Store, amount, quantity: int) -> list[dict]:
    lines = []
    for n, sku in enumerate(store.skus):
        lines += [
            {"type": "price", "price_list": "retail", "sku": sku.code, "amount": str(amount(n))},
            {"type": "stock", "warehouse": "main", "sku": sku.code, "quantity": quantity},
        ]
    return lines


def test_import_catalog__a_price_and_stock_feed_of_many_rows_sends_no_indexing_task(
    tmp_path, active_space, index_tasks, django_capture_on_commit_callbacks
):
    store = _store(60, skus_per_product=3)  # 180 SKUs: 360 lines over four apply batches
    rows, indexed = _indexed_rows(store.tenant), index_state(store.tenant)
    feed = write_feed(tmp_path / "prices.jsonl", _price_lines(store, lambda n: Decimal("19.90") + n, quantity=0))

    with django_capture_on_commit_callbacks(execute=True):
        ok, out = run_import(feed, store.tenant, "--batch-size", "100")

    assert ok, out
    assert "applied 360 rows" in out
    amounts = dict(Price.objects.filter(sku__tenant=store.tenant).values_list("sku__code", "amount"))
    assert amounts == {sku.code: Decimal("19.90") + n for n, sku in enumerate(store.skus)}
    assert set(StockLevel.objects.filter(sku__tenant=store.tenant).values_list("quantity", flat=True)) == {0}
    assert index_tasks == [] and nothing_pending()
    assert _indexed_rows(store.tenant) == rows and index_state(store.tenant) == indexed
    edited = [{"type": "sku", "code": "KET-0-0", "product": "kettle-0", "attributes": {"colour": "black"}}]
    with django_capture_on_commit_callbacks(execute=True):  # the control: a text change is sent at once
        assert run_import(write_feed(tmp_path / "sku.jsonl", edited), store.tenant)[0]
    assert index_tasks == [("sku", [store.skus[0].pk])]
