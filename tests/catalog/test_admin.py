"""The catalog admin: saves through services, bad input as form errors, index status, re-index."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import SKU, Price, Product, ProductTranslation
from knowledge.models import Chunk
from knowledge.retrieval.vector import chunk_search_vector
from tests import factories
from tests.test_admin import add_inline_row, admin_url, browser_form, form_errors, login_editor, submit
from tests.worker import wait_until

db = pytest.mark.django_db
live = pytest.mark.django_db(transaction=True)


def _fresh(*rows) -> bool:
    for row in rows:
        row.refresh_from_db()
    return not any(row.index_pending for row in rows)


def _snapshot(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


@db
def test_product_admin__add_with_translation_and_sku_goes_through_the_services(client):
    login_editor(client)
    category = factories.CategoryFactory()
    url = admin_url(Product, "add")
    data = browser_form(client, url)
    data.update(tenant=category.tenant_id, category=category.pk, handle="kettle-2", title="Kettle 2", brand="Acme")
    add_inline_row(data, "translations", {"locale": "de", "title": "Wasserkocher 2", "description": "Kocht schnell."})
    add_inline_row(data, "skus", {"code": "KET-2", "is_active": "on", "margin_rate": "0.2", "conversion_rate": "0"})

    response = client.post(url, {**data, "_save": "Save"})

    assert response.status_code == 302, form_errors(response)
    product = Product.objects.get(handle="kettle-2")
    assert product.index_changed_at is not None and product.index_pending  # marked by the service
    assert product.translations.get().title == "Wasserkocher 2"
    sku = product.skus.get()
    assert (sku.code, sku.tenant_id, sku.margin_rate) == ("KET-2", category.tenant_id, Decimal("0.2"))
    assert sku.index_changed_at is not None


@db
def test_product_admin__bad_input_is_a_form_error_and_changes_nothing(client):
    login_editor(client)
    product = factories.product(title="Steel kettle")
    before, counts = _snapshot(Product, product.pk), Product.objects.count()

    missing = submit(client, admin_url(product, "change"), {"title": ""})
    huge = submit(client, admin_url(product, "change"), {"title": "x" * 10 * 2**20})
    bad_json = submit(client, admin_url(product, "change"), {"attributes": "{not json"})
    not_object = submit(client, admin_url(product, "change"), {"attributes": "[1, 2]"})
    add_missing = submit(client, admin_url(Product, "add"), {"tenant": product.tenant_id, "handle": "x"})
    taken = factories.product(tenant=product.tenant, handle="teapot")
    handle_taken = submit(client, admin_url(product, "change"), {"handle": "teapot"})
    handle_taken_on_add = submit(
        client,
        admin_url(Product, "add"),
        {"tenant": product.tenant_id, "category": product.category_id, "handle": "teapot", "title": "Pot"},
    )
    foreign = factories.CategoryFactory()
    foreign_category = submit(
        client,
        admin_url(Product, "add"),
        {"tenant": product.tenant_id, "category": foreign.pk, "handle": "h", "title": "t"},
    )

    assert "title: This field is required." in form_errors(missing)
    assert "title: Ensure this value has at most 300 characters (it has 10485760)." in form_errors(huge)
    assert "attributes: Enter a valid JSON." in form_errors(bad_json)
    assert 'attributes: Attributes must be a JSON object, e.g. {"colour": "red"}.' in form_errors(not_object)
    assert "title: This field is required." in form_errors(add_missing)
    assert "handle: Handle “teapot” is already used in this tenant." in form_errors(handle_taken)
    assert "__all__: Product with this Tenant and Handle already exists." in form_errors(handle_taken_on_add)
    assert f"category: “{foreign}” belongs to another tenant." in form_errors(foreign_category)
    assert _snapshot(Product, product.pk) == before and Product.objects.count() == counts + 1  # + `taken`
    assert Product.objects.get(pk=taken.pk).handle == "teapot"


@db
def test_product_admin__emptied_attributes_box_saves_no_attributes(client):
    login_editor(client)
    product = factories.product(attributes={"colour": "red"})

    response = submit(client, admin_url(product, "change"), {"attributes": ""})

    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).attributes == {}


@db
def test_product_admin__sku_code_used_in_the_tenant_is_a_form_error_not_a_500(client):
    login_editor(client)
    taken = factories.sku(code="MUG-1")
    product = factories.product(tenant=taken.tenant, title="Tea mug")
    url = admin_url(product, "change")
    data = browser_form(client, url)
    add_inline_row(data, "skus", {"code": "MUG-1", "is_active": "on", "margin_rate": "0", "conversion_rate": "0"})

    response = client.post(url, {**data, "_save": "Save"})

    errors = form_errors(response)
    assert any(e.startswith("skus.code: SKU code “MUG-1” is already used in this tenant") for e in errors), errors
    assert SKU.objects.count() == 1 and product.skus.count() == 0


@db
def test_product_admin__same_sku_code_twice_in_one_form_is_a_form_error(client):
    login_editor(client)
    product = factories.product()
    url = admin_url(product, "change")
    data = browser_form(client, url)
    for _ in range(2):
        add_inline_row(data, "skus", {"code": "CUP-9", "is_active": "on", "margin_rate": "0", "conversion_rate": "0"})

    response = client.post(url, {**data, "_save": "Save"})

    assert "skus.code: SKU code “CUP-9” appears twice in this form." in form_errors(response)
    assert not SKU.objects.exists()


@db
def test_sku_admin__bad_input_is_a_form_error_and_changes_nothing(client):
    login_editor(client)
    other = factories.sku(code="PAN-1")
    sku = factories.sku(factories.product(tenant=other.tenant), code="PAN-2", margin_rate=Decimal("0.3"))
    elsewhere = factories.product()  # another tenant: the same code is fine there
    before = _snapshot(SKU, sku.pk)

    wrong_type = submit(client, admin_url(sku, "change"), {"margin_rate": "x", "conversion_rate": "abc"})
    too_big = submit(client, admin_url(sku, "change"), {"margin_rate": "5"})
    taken = submit(client, admin_url(sku, "change"), {"code": "PAN-1"})
    taken_on_add = submit(client, admin_url(SKU, "add"), {"product": sku.product_id, "code": "PAN-1"})
    other_tenant = submit(client, admin_url(SKU, "add"), {"product": elsewhere.pk, "code": "PAN-1"})

    assert {"margin_rate: Enter a number.", "conversion_rate: Enter a number."} <= set(form_errors(wrong_type))
    assert "margin_rate: Ensure this value is less than or equal to 1." in form_errors(too_big)
    assert f"code: SKU code “PAN-1” is already used in this tenant (by product “{other.product.title}”)." in (
        form_errors(taken)
    )
    assert any(e.startswith("code: SKU code “PAN-1” is already used") for e in form_errors(taken_on_add))
    assert _snapshot(SKU, sku.pk) == before
    assert other_tenant.status_code == 302 and SKU.objects.get(product=elsewhere).tenant_id == elsewhere.tenant_id


@db
def test_sku_admin__negative_price_is_a_form_error_and_prices_go_through_price_set(client):
    login_editor(client)
    sku = factories.sku()
    price_list = factories.PriceListFactory(tenant=sku.tenant)
    url = admin_url(sku, "change")
    data = browser_form(client, url)
    add_inline_row(data, "prices", {"price_list": price_list.pk, "amount": "-1.00"})

    negative = client.post(url, {**data, "_save": "Save"})
    data["prices-0-amount"] = "19.90"
    saved = client.post(url, {**data, "_save": "Save"})

    assert "prices.amount: Ensure this value is greater than or equal to 0." in form_errors(negative)
    assert saved.status_code == 302
    assert Price.objects.get(sku=sku).amount == Decimal("19.90")


@db
def test_sku_admin__price_list_of_another_tenant_is_a_form_error(client):
    login_editor(client)
    sku = factories.sku()
    foreign = factories.PriceListFactory()
    url = admin_url(sku, "change")
    data = browser_form(client, url)
    add_inline_row(data, "prices", {"price_list": foreign.pk, "amount": "5"})

    response = client.post(url, {**data, "_save": "Save"})

    assert f"prices.price_list: “{foreign}” belongs to another tenant." in form_errors(response)
    assert not Price.objects.exists()


@db
def test_product_admin__delete_retires_the_products_chunks(client):
    login_editor(client)
    product = factories.product()
    chunk = Chunk.objects.create(
        tenant=product.tenant, source_kind="product", source_id=product.pk, source_key=product.handle,
        source_version=1, anchor="main", ordinal=0, locale="en", text="x", token_count=1, content_hash="0" * 64,
    )  # fmt: skip

    response = client.post(
        admin_url(Product, "changelist"),
        {"action": "delete_selected", "_selected_action": [product.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()
    chunk.refresh_from_db()
    assert chunk.retired_at is not None  # product_delete ran, not a plain queryset delete


@db
def test_product_admin__changelist_queries_do_not_grow_with_rows(client):
    login_editor(client)
    tenant = factories.TenantFactory()
    parent = factories.CategoryFactory(tenant=tenant)
    category = factories.CategoryFactory(tenant=tenant, parent=parent)

    def queries(n: int) -> int:
        for _ in range(n):
            factories.sku(factories.product(tenant=tenant, category=category))
        from django.db import connection

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(admin_url(Product, "changelist")).status_code == 200
        return len(ctx)

    assert queries(2) == queries(6)


@db
def test_product_admin__failed_row_shows_its_error(client):
    login_editor(client)
    product = factories.product(title="Broken toaster")
    Product.objects.filter(pk=product.pk).update(index_error="ValueError: text too long to embed")

    page = client.get(admin_url(Product, "changelist")).content.decode()

    assert "failed: ValueError: text too long to embed" in page
    assert "index-failed" in page


@live
def test_product_admin__change_form_edit_is_found_by_vector_search_after_the_worker_runs(
    client, active_space, live_worker
):
    login_editor(client)
    product = factories.product(title="Espresso machine", description="Pumps at 15 bar with a steam wand.")
    wait_until(lambda: _fresh(product), 60, message="first indexing")

    response = submit(
        client, admin_url(product, "change"), {"description": "Cold brew tower that drips for twelve hours."}
    )
    assert response.status_code == 302, form_errors(response)
    wait_until(lambda: _fresh(product), 60, message="re-indexing after the admin edit")

    hits = chunk_search_vector(tenant_id=product.tenant_id, query="slow drip cold brew", k=3)
    assert hits and "twelve hours" in hits[0].chunk.text
    live_chunks = Chunk.objects.filter(source_kind="product", source_id=product.pk, retired_at__isnull=True)
    assert live_chunks and not any("15 bar" in c.text for c in live_chunks)


@live
def test_product_admin__index_column_shows_pending_then_fresh(client, active_space, live_worker):
    login_editor(client)
    product = factories.product(title="Milk frother")
    wait_until(lambda: _fresh(product), 60, message="first indexing")
    changelist = admin_url(Product, "changelist")

    with transaction.atomic():  # the edit commits (and is enqueued) only when this block ends
        submit(client, admin_url(product, "change"), {"title": "Milk frother with foam dial"})
        pending = client.get(changelist).content.decode()
    wait_until(lambda: _fresh(product), 60, message="indexing of the edit")
    fresh = client.get(changelist).content.decode()

    assert "pending (lag " in pending and "index-pending" in pending
    assert "index-fresh" in fresh and "index-pending" not in fresh


@live
def test_reindex_action__queues_selected_failed_rows_and_the_worker_makes_them_fresh(client, active_space, live_worker):
    login_editor(client)
    product = factories.product(title="Grinder")
    sku = factories.sku(product, code="GR-1")
    wait_until(lambda: _fresh(product, sku), 60, message="first indexing")
    failed = dict(
        index_nonce=F("index_nonce") + 1,
        index_error="RuntimeError: encoder crashed",
        index_attempts=10,  # the sweep backs off for an hour: only the action re-queues these rows
        index_enqueued_at=timezone.now(),
    )
    for model, row in ((Product, product), (SKU, sku)):
        model.objects.filter(pk=row.pk).update(**failed)
        assert "failed: RuntimeError: encoder crashed" in client.get(admin_url(model, "changelist")).content.decode()

        response = client.post(
            admin_url(model, "changelist"),
            {"action": "reindex_selected", "_selected_action": [row.pk], "index": "0"},
            follow=True,
        )

        assert f"Queued 1 {model._meta.verbose_name} for re-indexing" in response.content.decode()
        wait_until(lambda row=row: _fresh(row), 60, message=f"re-indexing of the {model._meta.verbose_name}")
        row.refresh_from_db()
        assert row.index_error == "" and row.index_attempts == 0


@db
def test_product_admin__translation_edit_and_delete_mark_the_product_changed(client):
    login_editor(client)
    product = factories.product(translations={"de": {"title": "Teekanne"}})
    nonce = Product.objects.get(pk=product.pk).index_nonce
    url = admin_url(product, "change")

    edited = submit(client, url, {"translations-0-title": "Große Teekanne"})
    deleted = submit(client, url, {"translations-0-DELETE": "on"})

    assert edited.status_code == deleted.status_code == 302
    assert not ProductTranslation.objects.filter(product=product).exists()
    assert Product.objects.get(pk=product.pk).index_nonce == nonce + 2
