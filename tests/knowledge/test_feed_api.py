"""POST /api/v1/feeds/: a feed body imported as one run, once per Idempotency-Key; GET /api/v1/feeds/<id>/."""

import json

import pytest

from catalog.models import SKU, Price, Product
from core.scopes import Scope
from knowledge.ingestion.submit import FEED_MAX_BYTES
from knowledge.models import IngestionRun
from tests import factories
from tests.knowledge.ingestion_helpers import index_state, nothing_pending, stored_state
from tests.worker import queued, wait_until

committed = pytest.mark.django_db(transaction=True)
JSONL = "application/x-ndjson"

RECORDS = [
    {"type": "category", "path": "kitchen", "name": "Kitchen"},
    {"type": "price_list", "code": "retail-eur", "name": "Retail", "currency": "EUR"},
    {"type": "product", "handle": "kettle", "category": "kitchen", "title": "Aster kettle",
     "description": "A 2200 W kettle with a limescale filter."},
    {"type": "sku", "code": "KETTLE-1", "product": "kettle"},
    {"type": "price", "price_list": "retail-eur", "sku": "KETTLE-1", "amount": "49.90"},
    {"type": "qa", "product": "kettle", "question": "Is the lid wide?", "answer": "Wide enough to clean inside."},
]  # fmt: skip


def _jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _post(client, body: bytes, key: str | None = "feed-1", content_type: str = JSONL, query: str = ""):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.generic("POST", f"/api/v1/feeds/{query}", body, content_type=content_type, **headers)


@pytest.fixture
def tenant():
    return factories.TenantFactory(slug="feed-shop")


@pytest.fixture
def writer(tenant):
    return factories.scoped_client(tenant, [Scope.CATALOG_READ, Scope.CATALOG_WRITE])


@pytest.mark.django_db
def test_feeds__a_jsonl_feed_is_imported_as_an_api_run_with_its_report(tenant, writer):
    bad = {"type": "price", "price_list": "retail-eur", "sku": "KETTLE-1", "amount": -3}
    body = _jsonl([*RECORDS[:4], bad, *RECORDS[5:]] + [{"type": "warehouse", "code": f"w{n}", "name": "W"}
                                                      for n in range(10)])  # fmt: skip

    response = _post(writer, body)

    assert response.status_code == 201, response.content
    data = response.json()
    run = IngestionRun.objects.get(pk=data["id"])
    assert (run.origin, run.state, run.idempotency_key, run.tenant_id) == ("api", "applied", "feed-1", tenant.pk)
    assert (data["state"], data["lines"], data["rejected"]) == ("applied", 16, 1)
    assert data["counts"]["product"] == {"new": 1} and data["counts"]["price"] == {"rejected": 1}
    assert data["problems"] == [{"line": 5, "type": "price", "key": "", "field": "amount",
                                 "problem": "-3 is less than the minimum of 0"}]  # fmt: skip
    assert Product.objects.get(tenant=tenant, handle="kettle").title == "Aster kettle"
    assert not Price.objects.filter(sku__tenant=tenant).exists()
    assert writer.get(f"/api/v1/feeds/{run.pk}/").json() == data


@pytest.mark.django_db
def test_feeds__a_csv_feed_with_a_type_column(tenant, writer):
    assert _post(writer, _jsonl(RECORDS[:4]), key="base").status_code == 201
    csv = (
        "type,code,product,price_list,sku,amount,is_active\n"
        "sku,KETTLE-2,kettle,,,,false\n"
        "price,,,retail-eur,KETTLE-2,9.5,\n"
    )

    response = _post(writer, csv.encode(), key="csv-1", content_type="text/csv")

    assert response.status_code == 201, response.content
    assert response.json()["counts"] == {"sku": {"new": 1}, "price": {"new": 1}}
    assert not SKU.objects.get(tenant=tenant, code="KETTLE-2").is_active
    assert str(Price.objects.get(sku__code="KETTLE-2").amount) == "9.50"


@pytest.mark.django_db
def test_feeds__dry_run_decides_returns_the_diff_and_writes_nothing(tenant, writer):
    assert _post(writer, _jsonl(RECORDS), key="first").status_code == 201
    before = stored_state(tenant)
    edited = [*RECORDS[:2], {**RECORDS[2], "title": "Aster kettle 1.7 l"}, *RECORDS[3:]]

    response = _post(writer, _jsonl(edited), key="preview", query="?dry_run=true")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["state"], data["dry_run"]) == ("decided", True)
    assert data["changes"] == [{"line": 3, "type": "product", "key": "kettle", "action": "changed",
                                "changes": ["title"]}] and data["changes_total"] == 1  # fmt: skip
    assert stored_state(tenant) == before
    again = _post(writer, _jsonl(edited), key="preview", query="?dry_run=true")
    applied_with_the_same_key = _post(writer, _jsonl(edited), key="preview")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert applied_with_the_same_key.status_code == 409 and "dry run" in applied_with_the_same_key.json()["detail"]
    assert stored_state(tenant) == before


@pytest.mark.django_db
def test_feeds__the_same_key_with_another_body_is_a_conflict_and_changes_nothing(tenant, writer):
    first = _post(writer, _jsonl(RECORDS))
    before = stored_state(tenant)

    other = _post(writer, _jsonl([{**RECORDS[2], "title": "Something else"}]))

    assert first.status_code == 201
    assert other.status_code == 409
    assert "another feed body" in other.json()["detail"] and str(first.json()["id"]) in other.json()["detail"]
    assert stored_state(tenant) == before and IngestionRun.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "body", "content_type", "status", "field"),
    [
        (None, _jsonl(RECORDS), JSONL, 400, "Idempotency-Key"),
        ("   ", _jsonl(RECORDS), JSONL, 400, "Idempotency-Key"),
        ("k" * 201, _jsonl(RECORDS), JSONL, 400, "Idempotency-Key"),
        ("empty", b"\n\n", JSONL, 400, "body"),
        ("json", json.dumps(RECORDS).encode(), "application/json", 415, None),
    ],
    ids=["no key", "blank key", "long key", "empty body", "not a feed type"],
)
def test_feeds__bad_requests_name_what_to_fix_and_start_no_run(tenant, writer, key, body, content_type, status, field):
    response = _post(writer, body, key=key, content_type=content_type)

    assert response.status_code == status, response.content
    assert (field in response.json()) if field else response.json()["detail"]
    assert not IngestionRun.objects.exists() and not Product.objects.exists()


@pytest.mark.django_db
def test_feeds__a_body_over_the_limit_is_a_413(tenant, writer):
    line = json.dumps({"type": "category", "path": "c", "name": "x" * 100}).encode() + b"\n"

    response = _post(writer, line * (FEED_MAX_BYTES // len(line) + 1))

    assert response.status_code == 413 and "at most 16,777,216" in response.json()["detail"]
    assert not IngestionRun.objects.exists()


@pytest.mark.django_db
def test_feeds__a_run_of_another_tenant_is_404_and_runs_need_catalog_write(tenant, writer):
    other = factories.TenantFactory(slug="other-shop")
    other_run = _post(factories.scoped_client(other, [Scope.CATALOG_WRITE]), _jsonl(RECORDS[:1])).json()["id"]
    own_run = _post(writer, _jsonl(RECORDS[:1])).json()["id"]
    reader = factories.scoped_client(tenant, [Scope.CATALOG_READ])

    assert writer.get(f"/api/v1/feeds/{other_run}/").status_code == 404
    assert writer.get(f"/api/v1/feeds/{own_run}/").status_code == 200
    assert reader.get(f"/api/v1/feeds/{own_run}/").status_code == 403


@committed
def test_feeds__the_same_key_twice_is_one_run_and_embeds_nothing_again(tenant, writer, active_space, live_worker):
    first = _post(writer, _jsonl(RECORDS), key="nightly-2026-01-01")
    assert first.status_code == 201, first.content
    wait_until(nothing_pending, 90, message="the feed indexed")
    stored, indexed = stored_state(tenant), index_state(tenant)
    assert indexed["embeddings"]

    again = _post(writer, _jsonl(RECORDS), key="nightly-2026-01-01")

    assert again.status_code == 200 and again.json() == first.json()
    assert IngestionRun.objects.filter(tenant=tenant).count() == 1
    wait_until(lambda: queued() == 0, 30, message="an empty queue")
    assert nothing_pending()
    assert stored_state(tenant) == stored and index_state(tenant) == indexed
