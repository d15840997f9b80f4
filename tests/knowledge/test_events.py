"""Signed change events: POST /api/v1/events/<source>/ applies a product, price or stock record through the
importer's rules and writers; a refused event (bad signature, expired, replayed, unknown SKU, malformed) changes
nothing; out-of-order events are stale; a rotated secret verifies for its overlap only."""

import io
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import SKU, Price, Product, StockLevel
from catalog.services import price_set
from config.logfilters import scrub
from knowledge.ingestion.event_sources import event_source_create, event_source_rotate
from knowledge.ingestion.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_headers
from knowledge.models import EntityVersion, EventSecret, EventSource, IngestionRun, ReceivedEvent
from tests import factories
from tests.knowledge.ingestion_helpers import nothing_pending, stored_state
from tests.test_admin import admin_url, login_editor, submit
from tests.worker import wait_until

in_transaction = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)

SECRET_RE = re.compile(r"\bevsec_[\w-]+")


@dataclass
class Shop:
    tenant: object
    source: EventSource
    secret: str


def _shop(slug: str = "evt-shop", source: str = "evt-pim") -> Shop:
    """A drill with SKU DR-1 under tools/drills, a retail price list and a main warehouse; an event source."""
    tenant = factories.TenantFactory(slug=slug)
    tools = factories.CategoryFactory(tenant=tenant, slug="tools", name="Tools")
    drills = factories.CategoryFactory(tenant=tenant, slug="drills", name="Drills", parent=tools)
    factories.PriceListFactory(tenant=tenant, code="retail")
    factories.WarehouseFactory(tenant=tenant, code="main")
    drill = factories.product(tenant, drills, handle="drill", title="Cordless drill", description="Drills wood.")
    factories.sku(drill, code="DR-1")
    issued = event_source_create(tenant=tenant, name=source)
    return Shop(tenant, issued.source, issued.secret)


def _event(event_id: str, event_type: str, data: dict, **order) -> dict:
    return {"id": event_id, "type": event_type, **(order or {"version": 1}), "data": data}


def _price(event_id: str, amount: str, **order) -> dict:
    return _event(event_id, "price.upsert", {"price_list": "retail", "sku": "DR-1", "amount": amount}, **order)


def _post(client, shop: Shop, event=None, *, body: bytes | None = None, secret=None, timestamp=None, source=None):
    """POST an event (or raw `body`) signed with the shop's secret (or `secret`) at `timestamp` (default now)."""
    body = json.dumps(event).encode() if body is None else body
    headers = signed_headers(secret or shop.secret, body, timestamp)
    url = f"/api/v1/events/{source or shop.source.name}/"
    return client.post(url, data=body, content_type="application/json", headers=headers)


def _nothing_stored(shop: Shop) -> dict:
    """What a refused event must leave as it was: the catalog, and every record of events taken."""
    return {
        "catalog": stored_state(shop.tenant),
        "events": list(ReceivedEvent.objects.values_list("event_id", "outcome")),
        "versions": list(EntityVersion.objects.values_list("entity", "version", "occurred_at")),
        "runs": list(IngestionRun.objects.filter(origin="events").values_list("source", "counts")),
    }


def _amount(tenant, code: str = "DR-1") -> Decimal | None:
    return Price.objects.filter(sku__tenant=tenant, sku__code=code).values_list("amount", flat=True).first()


# The happy path, through the worker -----------------------------------------------------------------------------


@committed
def test_event_receive__product_price_and_stock_apply_and_the_edit_is_searchable(client, active_space, live_worker):
    shop = _shop()
    _, raw_key = factories.api_key(shop.tenant)
    wait_until(nothing_pending, 60, message="the shop indexed")
    edit = {"handle": "drill", "category": "tools/drills", "title": "Brushless hammer drill",
            "description": "Drills granite and basalt with a brushless motor."}  # fmt: skip
    new = {"handle": "saw", "category": "tools", "title": "Plunge saw", "description": "Cuts worktops cleanly."}

    answers = [
        _post(client, shop, _event("e-1", "product.upsert", edit, version=2)),
        _post(client, shop, _event("e-2", "product.upsert", new, version=1)),
        _post(client, shop, _price("e-3", "24.90")),
        _post(client, shop, _event("e-4", "stock.upsert", {"warehouse": "main", "sku": "DR-1", "quantity": 7})),
    ]

    assert [r.status_code for r in answers] == [200] * 4, [r.content for r in answers]
    assert [(r.json()["status"], r.json()["action"]) for r in answers] == [
        ("applied", "changed"), ("applied", "new"), ("applied", "new"), ("applied", "new")
    ]  # fmt: skip
    drill, saw = Product.objects.get(handle="drill"), Product.objects.get(handle="saw")
    wait_until(nothing_pending, 60, message="the event's edits indexed by the worker")
    search = factories.api_client(raw_key)
    hits = search.get("/api/v1/search/", {"q": "brushless drill for granite"}).json()["results"]
    assert hits and hits[0]["product"] == "drill"
    assert search.get("/api/v1/search/", {"q": "plunge saw for worktops"}).json()["results"][0]["product"] == "saw"
    assert drill.title == "Brushless hammer drill" and saw.category.slug == "tools"
    assert _amount(shop.tenant) == Decimal("24.90")
    assert StockLevel.objects.get(sku__code="DR-1", warehouse__code="main").quantity == 7
    run = IngestionRun.objects.get(tenant=shop.tenant, origin="events")
    assert run.counts == {"product": {"changed": 1, "new": 1}, "price": {"new": 1}, "stock": {"new": 1}}
    assert re.fullmatch(r"evt-pim \d{4}-\d\d-\d\dT\d\d:00Z", run.source)  # the source's hour


@in_transaction
def test_event_receive__a_product_edit_schedules_indexing_on_commit_and_a_price_schedules_nothing(
    client, django_capture_on_commit_callbacks
):
    shop = _shop()
    edit = {"handle": "drill", "category": "tools/drills", "title": "Drill, renamed"}

    with django_capture_on_commit_callbacks() as product_callbacks:
        assert _post(client, shop, _event("p-1", "product.upsert", edit, version=2)).status_code == 200
    with django_capture_on_commit_callbacks() as price_callbacks:
        assert _post(client, shop, _price("p-2", "9.99")).status_code == 200

    assert product_callbacks  # the indexing task, sent once the event's transaction commits
    assert price_callbacks == []  # prices are read live: nothing to index
    assert Product.objects.get(handle="drill").index_pending


@in_transaction
def test_event_receive__a_product_delete_removes_it_and_a_delete_of_nothing_changes_nothing(client):
    shop = _shop()

    gone = _post(client, shop, _event("d-1", "product.delete", {"handle": "drill"}, version=3))
    again = _post(client, shop, _event("d-2", "product.delete", {"handle": "drill"}, version=4))

    assert (gone.status_code, gone.json()["action"]) == (200, "deleted")
    assert (again.status_code, again.json()["action"]) == (200, "unchanged")
    assert not Product.objects.filter(tenant=shop.tenant).exists() and not SKU.objects.filter(code="DR-1").exists()


# Refused: nothing stored changes ------------------------------------------------------------------------------


@in_transaction
@pytest.mark.parametrize(
    "case", ["wrong secret", "tampered body", "no signature", "malformed signature", "unknown source", "revoked"]
)
def test_event_receive__a_bad_signature_is_a_401_naming_the_header_and_changes_nothing(client, case, caplog):
    shop = _shop()
    other = event_source_create(tenant=shop.tenant, name="other-pim").secret
    event = _price("s-1", "1.00")
    body = json.dumps(event).encode()
    before = _nothing_stored(shop)

    with caplog.at_level(logging.DEBUG):
        if case == "wrong secret":
            response = _post(client, shop, event, secret=other)
        elif case == "tampered body":
            headers = signed_headers(shop.secret, body)
            response = client.post("/api/v1/events/evt-pim/", data=body.replace(b"1.00", b"0.01"),
                                   content_type="application/json", headers=headers)  # fmt: skip
        elif case == "no signature":
            headers = {TIMESTAMP_HEADER: str(int(time.time()))}
            response = client.post("/api/v1/events/evt-pim/", data=body, content_type="application/json",
                                   headers=headers)  # fmt: skip
        elif case == "malformed signature":
            stamp = str(int(time.time()))
            headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(shop.secret, stamp, body)}  # no sha256=
            response = client.post("/api/v1/events/evt-pim/", data=body, content_type="application/json",
                                   headers=headers)  # fmt: skip
        elif case == "unknown source":
            response = _post(client, shop, event, source="nobody-pim")
        else:
            call_command("event_source", "revoke", "evt-pim", "--tenant", shop.tenant.slug, stdout=io.StringIO())
            before = _nothing_stored(shop)
            response = _post(client, shop, event)

    assert response.status_code == 401, response.content
    assert list(response.json()) == [SIGNATURE_HEADER]
    assert _nothing_stored(shop) == before and _amount(shop.tenant) is None
    for secret in (shop.secret, other):
        assert secret not in response.content.decode() and secret not in caplog.text


@in_transaction
@pytest.mark.parametrize(("skew_s", "status"), [(-301, 401), (301, 401), (-3600, 401), (-290, 200), (290, 200)])
def test_event_receive__a_timestamp_outside_five_minutes_either_way_is_a_401_naming_the_header(client, skew_s, status):
    shop = _shop()
    before = _nothing_stored(shop)

    response = _post(client, shop, _price("t-1", "5.00"), timestamp=int(time.time()) + skew_s)

    assert response.status_code == status, response.content
    if status == 401:
        assert list(response.json()) == [TIMESTAMP_HEADER] and "300 s" in response.json()[TIMESTAMP_HEADER][0]
        assert _nothing_stored(shop) == before
    else:
        assert _amount(shop.tenant) == Decimal("5.00")


@in_transaction
@pytest.mark.parametrize(("stamp", "status"), [("yesterday", 400), ("", 401), ("1e9", 400)])
def test_event_receive__a_missing_or_malformed_timestamp_is_refused_naming_the_header(client, stamp, status):
    shop = _shop()
    body = json.dumps(_price("t-2", "5.00")).encode()
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: "sha256=" + signature(shop.secret, stamp, body)}

    response = client.post("/api/v1/events/evt-pim/", data=body, content_type="application/json", headers=headers)

    assert response.status_code == status
    assert TIMESTAMP_HEADER in response.json()
    assert _amount(shop.tenant) is None


@in_transaction
def test_event_receive__a_replayed_id_is_a_409_and_changes_nothing(client):
    shop = _shop()
    assert _post(client, shop, _price("r-1", "10.00", version=1)).status_code == 200
    before = _nothing_stored(shop)

    replayed = _post(client, shop, _price("r-1", "10.00", version=1))
    reused = _post(client, shop, _price("r-1", "99.00", version=2))  # a new body under a taken id

    assert replayed.status_code == reused.status_code == 409
    assert "r-1" in replayed.json()["id"][0]
    assert _nothing_stored(shop) == before and _amount(shop.tenant) == Decimal("10.00")


@in_transaction
def test_event_receive__an_unknown_sku_is_a_422_naming_the_field_and_changes_nothing(client):
    shop = _shop()
    before = _nothing_stored(shop)
    stock = {"warehouse": "main", "sku": "NOPE-1", "quantity": 3}

    price = _post(client, shop, _event("u-1", "price.upsert", {"price_list": "retail", "sku": "NOPE-1", "amount": 1}))
    level = _post(client, shop, _event("u-2", "stock.upsert", stock))
    lost = _post(client, shop, _event("u-3", "product.upsert", {"handle": "x", "category": "tools/saws", "title": "X"}))

    assert price.status_code == level.status_code == lost.status_code == 422
    assert price.json() == {"data.sku": ["unknown sku 'NOPE-1'"]} and "data.sku" in level.json()
    assert lost.json() == {"data.category": ["unknown category 'tools/saws'"]}
    assert _nothing_stored(shop) == before


@in_transaction
def test_event_receive__another_tenants_entity_is_unknown_and_stays_as_it_was(client):
    shop = _shop()
    other = _shop(slug="other-shop", source="other-pim")
    other_sku = SKU.objects.get(tenant=other.tenant, code="DR-1")
    SKU.objects.filter(pk=other_sku.pk).update(code="OTHER-1")
    price_set(price_list=other.tenant.price_lists.get(code="retail"), sku=other_sku, amount=Decimal("50.00"))
    before = _nothing_stored(shop), _nothing_stored(other)
    theirs = {"price_list": "retail", "sku": "OTHER-1", "amount": "1.00"}

    foreign = _post(client, shop, _event("o-1", "price.upsert", theirs))
    named = _post(client, shop, _price("o-2", "1.00") | {"data": {**theirs, "sku": "DR-1", "tenant": "other-shop"}})

    assert foreign.status_code == named.status_code == 422
    assert foreign.json() == {"data.sku": ["unknown sku 'OTHER-1'"]} and "data.tenant" in named.json()
    assert (_nothing_stored(shop), _nothing_stored(other)) == before
    assert _amount(other.tenant, "OTHER-1") == Decimal("50.00")


@in_transaction
def test_event_receive__a_delete_naming_another_tenant_is_a_422_and_deletes_nothing(client):
    shop = _shop()
    before = _nothing_stored(shop)

    response = _post(client, shop, _event("t-1", "product.delete", {"handle": "drill", "tenant": "other-shop"}))

    assert response.status_code == 422
    assert "data.tenant" in response.json()
    assert _nothing_stored(shop) == before


BAD_BODIES = [
    (b"{not json", 400, "detail"),
    (b"", 400, "detail"),
    (b"[1, 2]", 400, "non_field_errors"),
    (b'{"id": "b", "type": "price.upsert", "version": NaN, "data": {}}', 400, "detail"),
    (b'{"type": "price.upsert", "version": 1, "data": {}}', 400, "id"),
    (b'{"id": "b", "type": "sku.upsert", "version": 1, "data": {}}', 400, "type"),
    (b'{"id": "b", "type": "price.upsert", "data": {}}', 400, "version"),
    (b'{"id": "b", "type": "price.upsert", "version": -1, "data": {}}', 400, "version"),
    (b'{"id": "b", "type": "price.upsert", "version": 1, "data": "x"}', 400, "data"),
    (b'{"id": "b", "type": "price.upsert", "version": 1, "data": {"price_list": "retail", "sku": "DR-1"}}', 422,
     "data.amount"),
    (b'{"id": "b", "type": "price.upsert", "version": 1, "data": {"price_list": "retail", "sku": "DR-1", '
     b'"amount": -3}}', 422, "data.amount"),
    (b'{"id": "b", "type": "price.upsert", "version": 1, "data": {"type": "stock", "warehouse": "main", '
     b'"sku": "DR-1", "quantity": 1}}', 422, "data.type"),
    (b'{"id": "b", "type": "product.upsert", "version": 1, "data": {"handle": "drill", "deleted": true}}', 422,
     "data.deleted"),
    (b"\xff\xfe not utf-8", 400, "detail"),
]  # fmt: skip


@in_transaction
@pytest.mark.parametrize(("body", "status", "field"), BAD_BODIES)
def test_event_receive__a_malformed_body_is_refused_naming_the_field_and_changes_nothing(client, body, status, field):
    shop = _shop()
    before = _nothing_stored(shop)

    response = _post(client, shop, body=body)

    assert response.status_code == status, response.content
    assert field in response.json(), response.json()
    assert _nothing_stored(shop) == before


# Order ---------------------------------------------------------------------------------------------------------


@in_transaction
def test_event_receive__an_older_version_is_acknowledged_as_stale_and_not_applied(client):
    shop = _shop()

    newest = _post(client, shop, _price("v-5", "50.00", version=5))
    older = _post(client, shop, _price("v-3", "30.00", version=3))
    same = _post(client, shop, _price("v-5b", "55.00", version=5))
    newer = _post(client, shop, _price("v-6", "60.00", version=6))

    assert [r.status_code for r in (newest, older, same, newer)] == [200] * 4
    assert [r.json()["status"] for r in (newest, older, same, newer)] == ["applied", "stale", "stale", "applied"]
    assert older.json()["applied_version"] == 5
    assert _amount(shop.tenant) == Decimal("60.00")
    assert _post(client, shop, _price("v-3", "30.00", version=3)).status_code == 409  # a stale id is taken too
    run = IngestionRun.objects.get(tenant=shop.tenant, origin="events")
    assert run.counts == {"price": {"new": 1, "changed": 1, "stale": 2}}


@in_transaction
def test_event_receive__occurred_at_orders_events_without_a_version(client):
    shop = _shop()
    now = timezone.now()
    stock = {"warehouse": "main", "sku": "DR-1"}

    late = _post(client, shop, _event("w-2", "stock.upsert", stock | {"quantity": 2}, occurred_at=now.isoformat()))
    early = _event("w-1", "stock.upsert", stock | {"quantity": 1}, occurred_at=(now - timedelta(minutes=1)).isoformat())
    stale = _post(client, shop, early)
    mixed = _post(client, shop, _event("w-3", "stock.upsert", stock | {"quantity": 3}, version=9))

    assert (late.json()["status"], stale.json()["status"]) == ("applied", "stale")
    assert StockLevel.objects.get(sku__code="DR-1").quantity == 2
    assert mixed.status_code == 422 and "occurred_at" in mixed.json()


@in_transaction
def test_event_receive__versions_are_kept_per_entity(client):
    shop = _shop()
    factories.sku(Product.objects.get(handle="drill"), code="DR-2")
    other = {"price_list": "retail", "sku": "DR-2", "amount": "7.00"}

    first = _post(client, shop, _price("k-1", "8.00", version=9))
    second = _post(client, shop, _event("k-2", "price.upsert", other, version=2))

    assert first.json()["status"] == second.json()["status"] == "applied"
    assert _amount(shop.tenant, "DR-2") == Decimal("7.00")


# Secrets -------------------------------------------------------------------------------------------------------


@in_transaction
def test_event_source_rotate__the_old_secret_verifies_until_the_overlap_ends_then_gets_401(client):
    shop = _shop()
    out = io.StringIO()
    call_command("event_source", "rotate", "evt-pim", "--tenant", shop.tenant.slug, "--overlap-hours", "2", stdout=out)
    new_secret = SECRET_RE.search(out.getvalue()).group()

    assert new_secret != shop.secret and len(SECRET_RE.findall(out.getvalue())) == 1
    assert _post(client, shop, _price("x-1", "1.00", version=1)).status_code == 200  # the old secret, in the overlap
    assert _post(client, shop, _price("x-2", "2.00", version=2), secret=new_secret).status_code == 200
    old = EventSecret.objects.filter(source=shop.source, expires_at__isnull=False).get()
    assert timedelta(hours=1) < old.expires_at - timezone.now() <= timedelta(hours=2)

    EventSecret.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    refused = _post(client, shop, _price("x-3", "3.00", version=3))
    assert refused.status_code == 401 and _amount(shop.tenant) == Decimal("2.00")
    assert _post(client, shop, _price("x-4", "4.00", version=4), secret=new_secret).status_code == 200


@in_transaction
def test_event_source__secrets_are_stored_encrypted_and_shown_once():
    tenant = factories.TenantFactory(slug="secret-shop")
    out = io.StringIO()

    call_command("event_source", "create", "secret-pim", "--tenant", tenant.slug, stdout=out)

    shown = SECRET_RE.findall(out.getvalue())
    assert len(shown) == 1
    stored = EventSecret.objects.get(source__name="secret-pim")
    assert shown[0].encode() not in bytes(stored.ciphertext) and shown[0][6:].encode() not in bytes(stored.ciphertext)
    assert event_source_rotate(stored.source).secret != shown[0]
    with pytest.raises(CommandError, match="already exists"):
        call_command("event_source", "create", "secret-pim", "--tenant", tenant.slug, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No event source 'ghost'"):
        call_command("event_source", "rotate", "ghost", "--tenant", tenant.slug, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No tenant 'nowhere'"):
        call_command("event_source", "create", "x-pim", "--tenant", "nowhere", stdout=io.StringIO())
    assert EventSource.objects.count() == 1


def test_event_secret__is_scrubbed_from_log_lines():
    secret = "evsec_" + "Zx9-_" * 8

    assert secret not in scrub(f"signature for {secret} refused") and "[SECRET]" in scrub(secret)


@in_transaction
def test_event_source_admin__shows_a_secret_once_on_create_and_on_rotate(client):
    login_editor(client)
    tenant = factories.TenantFactory(slug="admin-shop")

    created = submit(client, admin_url(EventSource, "add"), {"tenant": tenant.pk, "name": "admin-pim"}, follow=True)
    source = EventSource.objects.get(name="admin-pim")
    rotated = client.post(
        admin_url(EventSource, "changelist"),
        {"action": "rotate", "_selected_action": [source.pk], "index": "0"},
        follow=True,
    )

    secrets = [SECRET_RE.findall(str(m)) for r in (created, rotated) for m in r.context["messages"]]
    first, second = [s for found in secrets for s in found]
    assert first != second and EventSecret.objects.filter(source=source).count() == 2
    later = client.get(admin_url(source, "change")).content.decode()
    later += client.get(admin_url(EventSource, "changelist")).content.decode()
    assert first not in later and second not in later
