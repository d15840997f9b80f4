"""The write side of /api/v1: products, SKUs, prices, stock, policies, documents, reviews and Q&A, one record at a time.

Every write goes through the importer's checks and writers; a rejected one is a 4xx naming the field and
leaves every stored row as it was.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services as catalog_services
from catalog.models import SKU, Price, Product, StockLevel
from core.scopes import Scope
from knowledge.models import Chunk, Document, Policy, PolicyVersion
from tests import factories
from tests.knowledge.ingestion_helpers import index_state, nothing_pending, stored_state
from tests.worker import queued, wait_until

pytestmark = pytest.mark.django_db

BROKEN_UTF8 = b"Caf\xe9 au lait: descale every month."  # Latin-1, not UTF-8
READ_WRITE = [Scope.CATALOG_READ, Scope.CATALOG_WRITE]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Keep uploaded PDFs out of the shared media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Store:
    tenant: object
    kettle: Product
    sku: SKU
    writer: object
    reader: object


@pytest.fixture
def store():
    """A kettle with one SKU, a price and a stock level, a policy and a guide; a writing and a reading key."""
    tenant = factories.TenantFactory(slug="write-shop")
    kitchen = catalog_services.category_create(tenant=tenant, name="Kitchen", slug="kitchen")
    kettles = catalog_services.category_create(tenant=tenant, name="Kettles", slug="kettles", parent=kitchen)
    catalog_services.category_create(tenant=tenant, name="Garden", slug="garden")
    retail = factories.PriceListFactory(tenant=tenant, code="retail-eur")
    factories.PriceListFactory(tenant=tenant, code="trade-eur")
    main = factories.WarehouseFactory(tenant=tenant, code="main")
    factories.WarehouseFactory(tenant=tenant, code="south")
    kettle = factories.product(tenant, kettles, handle="kettle", title="Kettle", brand="Aster", attributes={"l": 1.7})
    factories.product(tenant, kettles, handle="teapot", title="Teapot")
    sku = factories.sku(kettle, code="KETTLE-1", attributes={"colour": "steel"})
    catalog_services.price_set(price_list=retail, sku=sku, amount=Decimal("49.90"))
    catalog_services.stock_set(sku=sku, warehouse=main, quantity=5)
    factories.policy(tenant, slug="returns-eu", title="Returns", body="30 days.")
    factories.document(tenant, slug="kettle-guide", title="Kettle guide", body="Descale monthly.", product=kettle)
    return Store(
        tenant,
        kettle,
        sku,
        factories.scoped_client(tenant, READ_WRITE),
        factories.scoped_client(tenant, [Scope.CATALOG_READ]),
    )


def _json(client, method: str, url: str, body=None):
    return getattr(client, method)(url, body, format="json")


# Products and SKUs ----------------------------------------------------------------------------------------------


def test_products__post_creates_patch_changes_put_replaces_delete_removes(store):
    new = {"handle": "jug", "category": "kitchen/kettles", "title": "Jug kettle", "brand": "Verde", "attributes": {}}

    created = _json(store.writer, "post", "/api/v1/products/", new)
    patched = _json(store.writer, "patch", "/api/v1/products/jug/", {"title": "Jug kettle 2 l"})
    after_patch = Product.objects.get(tenant=store.tenant, handle="jug")
    replaced = _json(store.writer, "put", "/api/v1/products/jug/", {"category": "kitchen", "title": "Jug"})
    after_put = Product.objects.get(tenant=store.tenant, handle="jug")

    assert created.status_code == 201, created.content
    assert created.json()["action"] == "new" and created.json()["record"]["brand"] == "Verde"
    assert created.json()["version"] == 1
    assert patched.status_code == 200 and patched.json()["changes"] == ["title"]
    assert (after_patch.title, after_patch.brand, after_patch.version) == ("Jug kettle 2 l", "Verde", 2)
    assert after_patch.index_pending  # scheduled for indexing like any edit
    assert replaced.status_code == 200, replaced.content
    assert (after_put.title, after_put.brand, after_put.category.slug) == ("Jug", "", "kitchen")  # PUT resets brand
    assert store.writer.delete("/api/v1/products/jug/").status_code == 204
    assert not Product.objects.filter(tenant=store.tenant, handle="jug").exists()
    assert store.reader.get("/api/v1/products/kettle/").status_code == 200  # reads are unchanged


def test_products__a_write_that_changes_nothing_is_unchanged_and_keeps_the_version(store):
    response = _json(store.writer, "patch", "/api/v1/products/kettle/", {"title": "Kettle"})

    assert response.status_code == 200
    assert response.json()["action"] == "unchanged" and response.json()["changes"] == []
    assert Product.objects.get(pk=store.kettle.pk).version == store.kettle.version


def test_skus__post_patch_and_delete_with_prices_and_stock_going_along(store):
    created = _json(store.writer, "post", "/api/v1/skus/", {"code": "KETTLE-2", "product": "kettle"})
    patched = _json(store.writer, "patch", "/api/v1/skus/KETTLE-2/", {"is_active": False, "margin_rate": "0.25"})
    deleted = store.writer.delete("/api/v1/skus/KETTLE-1/")

    assert created.status_code == 201, created.content
    assert patched.status_code == 200 and set(patched.json()["changes"]) == {"is_active", "margin_rate"}
    sku = SKU.objects.get(tenant=store.tenant, code="KETTLE-2")
    assert (sku.is_active, sku.margin_rate, sku.product_id) == (False, Decimal("0.2500"), store.kettle.pk)
    assert patched.json()["record"]["margin_rate"] == "0.2500"
    assert deleted.status_code == 204
    assert not Price.objects.filter(sku__code="KETTLE-1").exists()
    assert not StockLevel.objects.filter(sku__code="KETTLE-1").exists()


def test_prices_and_stock__put_creates_or_sets_patch_changes_delete_removes(store):
    price_url, stock_url = "/api/v1/skus/KETTLE-1/prices/trade-eur/", "/api/v1/skus/KETTLE-1/stock/south/"
    sku_before = SKU.objects.filter(pk=store.sku.pk).values("version", "content_hash", "index_changed_at").get()

    price_new = _json(store.writer, "put", price_url, {"amount": "41.00"})
    price_again = _json(store.writer, "put", price_url, {"amount": 40.5})
    price_patched = _json(store.writer, "patch", "/api/v1/skus/KETTLE-1/prices/retail-eur/", {"amount": "47.90"})
    stock_new = _json(store.writer, "put", stock_url, {"quantity": 12})
    stock_patched = _json(store.writer, "patch", stock_url, {"quantity": 0})

    assert (price_new.status_code, price_again.status_code, price_patched.status_code) == (201, 200, 200)
    assert price_again.json()["record"] == {"type": "price", "price_list": "trade-eur", "sku": "KETTLE-1",
                                          "amount": "40.50"}  # fmt: skip
    assert price_again.json()["version"] is None
    amounts = dict(Price.objects.filter(sku=store.sku).values_list("price_list__code", "amount"))
    assert amounts == {"trade-eur": Decimal("40.50"), "retail-eur": Decimal("47.90")}
    assert (stock_new.status_code, stock_patched.status_code) == (201, 200)
    assert StockLevel.objects.get(sku=store.sku, warehouse__code="south").quantity == 0
    assert store.writer.delete(price_url).status_code == 204
    assert store.writer.delete(stock_url).status_code == 204
    assert not Price.objects.filter(sku=store.sku, price_list__code="trade-eur").exists()
    assert not StockLevel.objects.filter(sku=store.sku, warehouse__code="south").exists()
    # prices and stock are read live, never indexed: the SKU row is untouched
    assert SKU.objects.filter(pk=store.sku.pk).values("version", "content_hash", "index_changed_at").get() == sku_before


# Policies, documents, reviews and Q&A -----------------------------------------------------------------------


def test_policies__post_publishes_version_one_and_put_the_next(store):
    policy = {"slug": "shipping-eu", "kind": "shipping", "region": "EU", "title": "Shipping", "body": "3 days."}

    created = _json(store.writer, "post", "/api/v1/policies/", policy)
    replaced = _json(store.writer, "put", "/api/v1/policies/shipping-eu/", {**policy, "body": "2 days."})
    regioned = _json(store.writer, "patch", "/api/v1/policies/shipping-eu/", {"region": "DE"})

    assert (created.status_code, created.json()["version"]) == (201, 1)
    assert (replaced.status_code, replaced.json()["version"]) == (200, 2)
    assert (regioned.status_code, regioned.json()["version"]) == (200, 2)  # no new text: no new version
    versions = PolicyVersion.objects.filter(policy__slug="shipping-eu").order_by("number")
    assert [v.body for v in versions] == ["3 days.", "2 days."]
    assert store.reader.get("/api/v1/policies/shipping-eu/versions/1/").json()["body"] == "3 days."
    assert store.writer.delete("/api/v1/policies/shipping-eu/").status_code == 204
    assert not Policy.objects.filter(slug="shipping-eu").exists()


def test_documents__json_body_and_multipart_pdf_and_markdown_uploads(store):
    guide = {"slug": "care", "kind": "guide", "title": "Care", "body": "Wipe dry.", "product": "kettle"}
    as_json = _json(store.writer, "post", "/api/v1/documents/", guide)
    pdf = SimpleUploadedFile("manual.pdf", factories.pdf_bytes("Fill to the max line only"))
    as_pdf = store.writer.post(
        "/api/v1/documents/", {"slug": "manual", "kind": "manual", "title": "Manual", "file": pdf}, format="multipart"
    )
    markdown = SimpleUploadedFile("care.md", "# Care\n\nDescale with vinegar — gently.".encode())
    replaced_text = store.writer.patch("/api/v1/documents/care/", {"file": markdown}, format="multipart")

    assert as_json.status_code == 201, as_json.content
    assert as_pdf.status_code == 201, as_pdf.content
    manual = Document.objects.get(tenant=store.tenant, slug="manual")
    assert manual.format == "pdf" and manual.body == "Fill to the max line only"
    assert manual.source_file.read().startswith(b"%PDF-")
    assert replaced_text.status_code == 200, replaced_text.content
    care = Document.objects.get(tenant=store.tenant, slug="care")
    assert (care.body, care.format, care.version) == ("# Care\n\nDescale with vinegar — gently.", "markdown", 2)
    assert care.product_id == store.kettle.pk  # kept: PATCH changes what it names
    assert store.writer.delete("/api/v1/documents/care/").status_code == 204


def test_reviews__post_with_a_rating_derives_the_slug_patch_and_delete(store):
    created = _json(store.writer, "post", "/api/v1/reviews/",
                    {"product": "kettle", "author": "Mara", "body": "Quiet and fast.", "rating": 5})  # fmt: skip
    slug = created.json()["record"]["slug"]
    rated = _json(store.writer, "patch", f"/api/v1/reviews/{slug}/", {"rating": 3})
    again = _json(store.writer, "post", "/api/v1/reviews/", {"product": "kettle", "author": "Mara",
                                                              "body": "Quiet and fast."})  # fmt: skip

    assert created.status_code == 201 and slug.startswith("review-kettle-")
    review = Document.objects.get(tenant=store.tenant, slug=slug)
    assert (review.kind, review.rating, review.title, review.author) == ("review", 3, "Review by Mara", "Mara")
    assert rated.status_code == 200 and rated.json()["changes"] == ["rating"]
    assert again.status_code == 409  # the same review again: its derived slug is taken
    assert store.writer.delete(f"/api/v1/reviews/{slug}/").status_code == 204


def test_qa__post_put_patch_and_the_question_beside_the_answer(store):
    qa = {"slug": "kettle-qa-1", "product": "kettle", "question": "Can it boil half a litre?",
          "answer": "Yes, the minimum is 0.5 l.", "author": "Aster support"}  # fmt: skip

    created = _json(store.writer, "post", "/api/v1/qa/", qa)
    patched = _json(store.writer, "patch", "/api/v1/qa/kettle-qa-1/", {"answer": "Yes: fill to the 0.5 l line."})
    replaced = _json(store.writer, "put", "/api/v1/qa/kettle-qa-1/", {"product": "teapot", "answer": "Yes."})
    shown = store.reader.get("/api/v1/documents/kettle-qa-1/").json()

    assert created.status_code == 201, created.content
    assert created.json()["record"] == {"type": "qa", **qa, "locale": "en"}
    assert patched.status_code == 200 and patched.json()["changes"] == ["answer"]
    assert replaced.status_code == 200
    assert replaced.json()["record"] == {"type": "qa", "slug": "kettle-qa-1", "product": "teapot", "question": "",
                                         "answer": "Yes.", "author": "", "locale": "en"}  # fmt: skip
    assert (shown["kind"], shown["body"], shown["question"], shown["title"]) == ("qa", "Yes.", "", "Customer answer")
    assert store.writer.delete("/api/v1/qa/kettle-qa-1/").status_code == 204


# Bad input: a 4xx naming the field, and nothing stored changes ------------------------------------------------


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


BAD_WRITES = [
    ("wrong type", "patch", "/api/v1/products/kettle/", {"is_active": "yes"}, "json", 400, "is_active"),
    ("negative price", "put", "/api/v1/skus/KETTLE-1/prices/retail-eur/", {"amount": "-1"}, "json", 400, "amount"),
    ("three decimals", "patch", "/api/v1/skus/KETTLE-1/prices/retail-eur/", {"amount": "1.005"}, "json", 400,
     "amount"),
    ("unknown category", "post", "/api/v1/products/", {"handle": "x", "category": "kitchen/nope", "title": "X"},
     "json", 400, "category"),
    ("SKU code of another product", "post", "/api/v1/skus/", {"code": "KETTLE-1", "product": "teapot"}, "json", 400,
     "product"),
    ("SKU moved to another product", "patch", "/api/v1/skus/KETTLE-1/", {"product": "teapot"}, "json", 400,
     "product"),
    ("missing required field", "post", "/api/v1/policies/", {"slug": "p", "kind": "returns"}, "json", 400, "region"),
    ("key changed in the body", "patch", "/api/v1/products/kettle/", {"handle": "other"}, "json", 400, "handle"),
    ("review slug of a guide", "post", "/api/v1/reviews/", {"slug": "kettle-guide", "product": "kettle",
     "author": "A", "body": "B"}, "json", 400, "slug"),
    ("rating out of range", "post", "/api/v1/reviews/", {"product": "kettle", "author": "A", "body": "B",
     "rating": 6}, "json", 400, "rating"),
    ("a PDF that is not one", "post", "/api/v1/documents/", {"slug": "m", "kind": "manual", "title": "M",
     "file": ("fake.pdf", b"<html>not a pdf</html>")}, "multipart", 400, "file"),
    ("broken UTF-8", "patch", "/api/v1/documents/kettle-guide/", {"file": ("care.txt", BROKEN_UTF8)}, "multipart",
     400, "file"),
    ("a file named in JSON", "post", "/api/v1/documents/", {"slug": "m", "kind": "manual", "title": "M",
     "file": "m.pdf"}, "json", 400, "file"),
    ("not an object", "post", "/api/v1/products/", ["handle"], "json", 400, "non_field_errors"),
    ("existing key", "post", "/api/v1/products/", {"handle": "kettle", "category": "kitchen", "title": "K"}, "json",
     409, None),
    ("unknown product", "patch", "/api/v1/products/nope/", {"title": "X"}, "json", 404, None),
    ("unknown SKU of a price", "put", "/api/v1/skus/NOPE/prices/retail-eur/", {"amount": "1"}, "json", 404, None),
    ("unknown warehouse", "put", "/api/v1/skus/KETTLE-1/stock/nowhere/", {"quantity": 1}, "json", 404, None),
    ("unknown Q&A", "delete", "/api/v1/qa/nope/", None, "json", 404, None),
    ("a guide deleted as a review", "delete", "/api/v1/reviews/kettle-guide/", None, "json", 404, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url", "body", "encoding", "status", "field"), [case[1:] for case in BAD_WRITES],
    ids=[case[0] for case in BAD_WRITES],
)  # fmt: skip
def test_bad_write__is_a_4xx_naming_the_field_and_changes_nothing(store, method, url, body, encoding, status, field):
    before = stored_state(store.tenant)
    if encoding == "multipart":
        body = {k: _upload(*v) if isinstance(v, tuple) else v for k, v in body.items()}

    response = getattr(store.writer, method)(url, body, format=encoding)

    assert response.status_code == status, response.content
    if field is not None:
        assert field in response.json(), response.json()
        assert all(isinstance(m, str) and m for m in response.json()[field])
    else:
        assert response.json()["detail"]
    assert stored_state(store.tenant) == before


def test_bad_write__a_body_over_the_limit_is_a_413_before_it_is_read(store):
    before = stored_state(store.tenant)
    huge = {"handle": "huge", "category": "kitchen", "title": "Huge", "description": "x" * (4 * 2**20)}

    response = _json(store.writer, "post", "/api/v1/products/", huge)

    assert response.status_code == 413 and "at most" in response.json()["detail"]
    assert stored_state(store.tenant) == before


# Scopes and permissions ------------------------------------------------------------------------------------


def test_scopes__writes_need_catalog_write_and_reads_catalog_read(store):
    reader, writer_only = store.reader, factories.scoped_client(store.tenant, [Scope.CATALOG_WRITE])
    before = stored_state(store.tenant)

    refused = [
        _json(reader, "post", "/api/v1/products/", {"handle": "x", "category": "kitchen", "title": "X"}),
        _json(reader, "patch", "/api/v1/products/kettle/", {"title": "X"}),
        reader.delete("/api/v1/skus/KETTLE-1/"),
        _json(reader, "put", "/api/v1/skus/KETTLE-1/prices/retail-eur/", {"amount": "1.00"}),
        _json(reader, "post", "/api/v1/feeds/", {}),
    ]

    assert [r.status_code for r in refused] == [403] * 5
    assert all("catalog:write" in r.json()["detail"] for r in refused)
    assert stored_state(store.tenant) == before
    assert _json(writer_only, "patch", "/api/v1/products/kettle/", {"title": "Kettle 1.7 l"}).status_code == 200
    assert "catalog:read" in writer_only.get("/api/v1/products/").json()["detail"]


def test_staff_sessions__follow_django_permissions(store, client):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(viewer)
    url = f"/api/v1/products/kettle/?tenant={store.tenant.slug}"

    refused = client.patch(url, {"title": "X"}, content_type="application/json")
    viewer.user_permissions.add(Permission.objects.get(codename="change_product"))
    viewer = User.objects.get(pk=viewer.pk)  # permissions are cached on the user
    client.force_login(viewer)
    allowed = client.patch(url, {"title": "Kettle, steel"}, content_type="application/json")

    assert refused.status_code == 403 and "catalog.change_product" in refused.json()["detail"]
    assert allowed.status_code == 200, allowed.content
    assert Product.objects.get(pk=store.kettle.pk).title == "Kettle, steel"
    assert client.get(url).status_code == 200


# Indexing -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_writes__are_indexed_on_commit_and_a_price_write_embeds_nothing(active_space, live_worker):
    tenant = factories.TenantFactory(slug="indexed-writes")
    catalog_services.category_create(tenant=tenant, name="Kitchen", slug="kitchen")
    factories.PriceListFactory(tenant=tenant, code="retail-eur")
    writer = factories.scoped_client(tenant, READ_WRITE)
    product = {"handle": "jug", "category": "kitchen", "title": "Jug kettle", "description": "A 2 l jug kettle."}

    assert _json(writer, "post", "/api/v1/products/", product).status_code == 201
    assert _json(writer, "post", "/api/v1/skus/", {"code": "JUG-1", "product": "jug"}).status_code == 201
    wait_until(nothing_pending, 90, message="the written product and SKU indexed")
    indexed = index_state(tenant)
    price = _json(writer, "put", "/api/v1/skus/JUG-1/prices/retail-eur/", {"amount": "19.90"})

    assert {c.source_key for c in Chunk.objects.filter(tenant=tenant, retired_at__isnull=True)} == {"jug", "JUG-1"}
    assert price.status_code == 201 and nothing_pending()
    wait_until(lambda: queued() == 0, 30, message="an empty queue")
    assert index_state(tenant) == indexed
