"""Profiles of change-event hours: each applied event kept as a row of its hour's run; the hour profiled once it
closes (counts, drift against the source's previous hour, PII flags without the values, freshness once the worker
has indexed); the admin's run pages and charts with event hours alone, mixed with feed runs, and empty."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU, Product
from knowledge.ingestion.event_profiles import HOUR, HOUR_GRACE, event_hours_profile, run_hour
from knowledge.ingestion.event_sources import event_source_create
from knowledge.ingestion.events import Event, event_apply
from knowledge.ingestion.profile import PSI_MAJOR
from knowledge.ingestion.signing import signed_headers
from knowledge.models import EventSource, IngestionRun, ReceivedEvent, StagedRecord
from tests import factories
from tests.knowledge.ingestion_helpers import nothing_pending, run_import, write_feed
from tests.test_admin import admin_url, login_editor
from tests.worker import wait_until

in_transaction = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)

SKUS = 20
EMAIL = "anna.schmidt@example.com"


@dataclass
class Shop:
    tenant: object
    source: EventSource
    secret: str


def _shop(slug: str = "hour-shop", source: str = "hour-pim", skus: int = SKUS) -> Shop:
    """A drill with SKUs S-0 ... under tools, a retail price list, a main warehouse; an event source."""
    tenant = factories.TenantFactory(slug=slug)
    tools = factories.CategoryFactory(tenant=tenant, slug="tools", name="Tools")
    factories.PriceListFactory(tenant=tenant, code="retail")
    factories.WarehouseFactory(tenant=tenant, code="main")
    drill = factories.product(tenant, tools, handle="drill", title="Cordless drill", description="Drills wood.")
    for n in range(skus):
        factories.sku(drill, code=f"S-{n}")
    issued = event_source_create(tenant=tenant, name=source)
    return Shop(tenant, issued.source, issued.secret)


def _this_hour() -> datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def _apply(source: EventSource, event_id: str, event_type: str, data: dict, at: datetime, version: int = 1):
    event = Event(id=event_id, type=event_type, data=data, version=version)
    return event_apply(source=source, event=event, now=at)


def _prices(source: EventSource, prefix: str, at: datetime, amount, version: int) -> IngestionRun:
    for n in range(SKUS):
        price = {"price_list": "retail", "sku": f"S-{n}", "amount": f"{amount(n):.2f}"}
        receipt = _apply(source, f"{prefix}-{n}", "price.upsert", price, at, version)
    return IngestionRun.objects.get(pk=receipt.run_id)


def _products(source: EventSource, prefix: str, at: datetime, version: int, **attributes) -> None:
    for n in range(5):
        product = {"handle": f"p-{n}", "category": "tools", "title": f"Product {n}",
                   "attributes": {"weight_kg": 1 + n / 10, **attributes}}  # fmt: skip
        _apply(source, f"{prefix}-{n}", "product.upsert", product, at, version)


def _profile_closed_hours() -> int:
    """Profile every hour before the current one (as the beat does once they have closed)."""
    return event_hours_profile(now=_this_hour() + HOUR_GRACE)


def _post(client, shop: Shop, event: dict):
    body = json.dumps(event).encode()
    headers = signed_headers(shop.secret, body)
    return client.post(f"/api/v1/events/{shop.source.name}/", data=body, content_type="application/json",
                       headers=headers)  # fmt: skip


# Kept and counted ----------------------------------------------------------------------------------------------


@in_transaction
def test_event_hour__keeps_each_applied_record_and_is_profiled_once_closed(client):
    shop = _shop(skus=1)
    at = _this_hour() - 2 * HOUR + timedelta(minutes=5)
    drill = {"handle": "drill", "category": "tools", "title": "Hammer drill"}
    saw = {"handle": "saw", "category": "tools", "title": "Plunge saw"}
    price = {"price_list": "retail", "sku": "S-0", "amount": "12.50"}
    receipt = _apply(shop.source, "e-1", "product.upsert", drill, at, version=2)
    _apply(shop.source, "e-2", "product.upsert", saw, at)
    _apply(shop.source, "e-3", "price.upsert", price, at, version=3)
    assert _apply(shop.source, "e-4", "price.upsert", price, at, version=2).outcome == "stale"
    _apply(shop.source, "e-5", "stock.upsert", {"warehouse": "main", "sku": "S-0", "quantity": 4}, at)
    _apply(shop.source, "e-6", "product.delete", {"handle": "saw"}, at, version=2)
    run = IngestionRun.objects.get(pk=receipt.run_id)

    kept = list(run.records.order_by("line").values_list("line", "source", "record_type", "key", "action", "applied"))
    assert kept == [
        (1, "hour-pim", "product", "drill", "changed", True), (2, "hour-pim", "product", "saw", "new", True),
        (3, "hour-pim", "price", "retail|S-0", "new", True), (4, "hour-pim", "stock", "main|S-0", "new", True),
        (5, "hour-pim", "product", "saw", "deleted", True),
    ]  # fmt: skip
    assert run.records.get(line=1).payload["title"] == "Hammer drill" == Product.objects.get(handle="drill").title
    assert run.records.get(line=1).changes == ["title"]
    assert event_hours_profile(now=at) == 0  # the hour is still open
    assert event_hours_profile(now=run_hour(run) + HOUR) == 0  # closed, but events may still be committing
    run.refresh_from_db()
    assert run.profile == {}

    assert _profile_closed_hours() == 1

    run.refresh_from_db()
    profile = run.profile
    assert profile["counts"] == {"new": 3, "changed": 1, "unchanged": 0, "deleted": 1, "rejected": 0,
                                 "applied": 5, "failed": 0, "stale": 1}  # fmt: skip
    assert {name: f["present"] for name, f in profile["fields"].items() if name.endswith(("title", "amount"))} == {
        "product.title": 2, "price.amount": 1}  # fmt: skip
    assert profile["fields"]["stock.quantity"]["distribution"]["quantiles"]["p50"] == 4
    assert profile["drift"]["previous_run"] is None and profile["pii"] == {}
    assert profile["freshness"]["started_at"] == run.created_at.isoformat()
    assert profile["freshness"]["applied_at"] == run.finished_at.isoformat()
    assert _profile_closed_hours() == 0  # idempotent: a profiled hour is left as it is
    run.refresh_from_db()
    assert run.profile == profile

    # An event that commits after its hour was profiled (it waited past the hour's end) re-opens the profile.
    _apply(shop.source, "e-7", "stock.upsert", {"warehouse": "main", "sku": "S-0", "quantity": 9}, at, version=2)
    run.refresh_from_db()
    assert run.profile == {}
    assert _profile_closed_hours() == 1
    run.refresh_from_db()
    assert run.profile["counts"]["changed"] == 2 and run.records.get(line=6).payload["quantity"] == 9


# Drift -----------------------------------------------------------------------------------------------------------


@in_transaction
def test_event_hour__drift_against_the_same_sources_previous_hour_with_applied_events():
    shop = _shop()
    erp = event_source_create(tenant=shop.tenant, name="hour-erp").source
    hour = _this_hour()
    _products(shop.source, "a-p", hour - 5 * HOUR, 1)
    first = _prices(shop.source, "a", hour - 5 * HOUR, lambda n: 10 + n / 10, 1)
    other = _prices(erp, "x", hour - 4 * HOUR, lambda n: 500 + n, 1)  # another source of the tenant, between
    _products(shop.source, "b-p", hour - 3 * HOUR, 2, colour="red")
    moved = _prices(shop.source, "b", hour - 3 * HOUR, lambda n: 100 + n, 2)
    empty = _prices(shop.source, "c", hour - 2 * HOUR, lambda n: 1, 1)  # every event stale: nothing applied
    after = _prices(shop.source, "d", hour - HOUR, lambda n: 100 + n + 0.5, 3)

    assert _profile_closed_hours() == 5

    first, other, moved, empty, after = (IngestionRun.objects.get(pk=r.pk) for r in (first, other, moved, empty, after))
    assert first.profile["drift"]["previous_run"] is None and other.profile["drift"]["previous_run"] is None
    drift = moved.profile["drift"]
    assert drift["previous_run"] == first.pk  # not the other source's hour in between
    assert drift["appeared"] == ["product.attributes.colour"] and drift["vanished"] == []
    assert drift["type_changes"] == []
    by_field = {m["field"]: m for m in drift["fields"]}
    assert by_field["price.amount"]["psi"] > PSI_MAJOR
    assert by_field["price.amount"]["median"] == pytest.approx([10.95, 109.5])
    assert by_field["product.attributes.weight_kg"]["psi"] == 0.0  # the same values: no shift
    assert drift["max_psi"] == by_field["price.amount"]["psi"]
    assert empty.profile["counts"]["stale"] == SKUS and empty.profile["fields"] == {}
    assert empty.profile["drift"]["previous_run"] is None  # nothing applied: nothing to compare
    assert after.profile["drift"]["previous_run"] == moved.pk  # the empty hour is no baseline
    assert after.profile["drift"]["max_psi"] < PSI_MAJOR


# PII -------------------------------------------------------------------------------------------------------------


@in_transaction
def test_event_hour__flags_an_email_in_a_description_sent_by_event_never_storing_it(client):
    shop = _shop(skus=1)
    description = f"Questions? Write to {EMAIL} any time."
    edit = {"handle": "drill", "category": "tools", "title": "Cordless drill", "description": description}
    answer = _post(client, shop, {"id": "pii-1", "type": "product.upsert", "version": 2, "data": edit})
    assert answer.status_code == 200, answer.content
    run = IngestionRun.objects.get(pk=answer.json()["run"])
    login_editor(client)

    page = client.get(admin_url(run, "change"))  # the current hour: profiled on the fly

    body = page.content.decode()
    assert page.status_code == 200 and "computed as of now, not stored" in body
    assert "product.description" in body and "EMAIL: 1" in body and EMAIL not in body
    run.refresh_from_db()
    assert run.profile == {}  # the page stored nothing

    assert event_hours_profile(now=run_hour(run) + HOUR + HOUR_GRACE) == 1

    run.refresh_from_db()
    assert run.profile["pii"] == {"product.description": {"EMAIL": 1}}
    assert EMAIL not in json.dumps([run.profile, run.counts, run.source])
    assert not ReceivedEvent.objects.filter(entity__contains=EMAIL).exists()
    # the one copy beside the product itself is the record the catalog now holds, kept with its hour
    assert run.records.get().payload["description"] == Product.objects.get(handle="drill").description == description
    assert StagedRecord.objects.filter(payload__description__icontains=EMAIL).count() == 1


# Freshness, with the worker ----------------------------------------------------------------------------------------


@committed
def test_event_hour__freshness_is_recorded_once_the_worker_has_indexed_its_rows(active_space, live_worker):
    live_worker.pause()  # the event's product waits for indexing
    shop = _shop(slug="fresh-hours", skus=1)
    at = _this_hour() - 2 * HOUR + timedelta(minutes=5)
    edit = {"handle": "drill", "category": "tools", "title": "Brushless hammer drill"}
    receipt = _apply(shop.source, "f-1", "product.upsert", edit, at, version=2)
    _apply(shop.source, "f-2", "price.upsert", {"price_list": "retail", "sku": "S-0", "amount": "99.00"}, at)
    assert Product.objects.get(handle="drill").index_pending

    live_worker.start()  # the beat profiles the closed hour; the worker indexes; freshness is recorded

    def recorded():
        return IngestionRun.objects.get(pk=receipt.run_id).profile.get("freshness", {}).get("indexed_at")

    wait_until(recorded, 120, message="the hour profiled and its freshness recorded")
    run = IngestionRun.objects.get(pk=receipt.run_id)
    assert nothing_pending()
    rows = [Product.objects.get(tenant=shop.tenant, handle="drill"), SKU.objects.get(tenant=shop.tenant, code="S-0")]
    searchable = max([run.finished_at, *(row.indexed_at for row in rows)])
    fresh = run.profile["freshness"]
    assert datetime.fromisoformat(fresh["indexed_at"]) == searchable > run.finished_at
    assert fresh["seconds"] == round((searchable - run.created_at).total_seconds(), 3) > 0
    assert run.profile["counts"]["applied"] == 2 and "product.title" in run.profile["fields"]


# The admin -------------------------------------------------------------------------------------------------------


def _pages(client, tenant, *runs: IngestionRun) -> tuple[str, list[str], str]:
    listing = client.get(reverse("admin:knowledge_ingestionrun_changelist") + f"?tenant__id__exact={tenant.pk}")
    pages = [client.get(admin_url(run, "change")) for run in runs]
    charts = client.get(reverse("admin:knowledge_ingestionrun_charts") + f"?tenant={tenant.pk}")
    assert [r.status_code for r in (listing, *pages, charts)] == [200] * (len(runs) + 2)
    return listing.content.decode(), [p.content.decode() for p in pages], charts.content.decode()


@in_transaction
def test_event_hour_admin__pages_and_charts_render_with_event_hours_only(client):
    login_editor(client)
    shop = _shop()
    hour = _this_hour()
    first = _prices(shop.source, "a", hour - 3 * HOUR, lambda n: 10 + n / 10, 1)
    moved = _prices(shop.source, "b", hour - 2 * HOUR, lambda n: 100 + n, 2)
    empty = _prices(shop.source, "c", hour - HOUR, lambda n: 1, 1)  # stale only: zero applied events
    current = _prices(shop.source, "d", hour + timedelta(minutes=1), lambda n: 120 + n, 4)
    assert _profile_closed_hours() == 3

    listing, (moved_page, empty_page, current_page), charts = _pages(client, shop.tenant, moved, empty, current)

    assert moved.source in listing and empty.source in listing and "major shift" in listing
    assert "<svg" in moved_page and "Distribution shift per field (PSI)" in moved_page and "price.amount" in moved_page
    assert f"run {first.pk}</a>" in moved_page and "First event" in moved_page and ">stale<" in moved_page
    assert "No earlier hour of this source with applied events" in empty_page and "<svg" in empty_page
    assert "computed as of now, not stored" in current_page and "<svg" in current_page
    assert "price.amount" in current_page  # drift of the open hour against the last hour with applied events
    assert charts.count('role="img"') == 3 and ">PSI<" in charts and ">seconds<" in charts
    assert f"run {moved.pk} (events, {moved.source}): largest PSI" in charts
    assert f"run {empty.pk} (events, {empty.source}): searchable after" in charts
    assert f"run {current.pk} " not in charts  # an open hour is charted once it is stored
    assert "No runs to show yet." in charts  # rejected lines: feed and bulk-API runs only


@in_transaction
def test_event_hour_admin__feed_runs_and_event_hours_chart_together(client, tmp_path):
    login_editor(client)
    shop = _shop(skus=2)
    feed = [{"type": "price", "price_list": "retail", "sku": f"S-{n}", "amount": "7.00"} for n in range(2)]
    assert run_import(write_feed(tmp_path / "prices.jsonl", feed), shop.tenant)[0]
    feed_run = IngestionRun.objects.get(tenant=shop.tenant, origin="feed")
    price = {"price_list": "retail", "sku": "S-1", "amount": "8.00"}
    receipt = _apply(shop.source, "m-1", "price.upsert", price, _this_hour() - 2 * HOUR)
    assert _profile_closed_hours() == 1
    hour_run = IngestionRun.objects.get(pk=receipt.run_id)

    listing, (feed_page, hour_page), charts = _pages(client, shop.tenant, feed_run, hour_run)

    assert "prices.jsonl" in listing and hour_run.source in listing
    assert "No earlier applied run of this tenant and origin" in feed_page
    assert "No earlier hour of this source with applied events" in hour_page  # a feed run is no baseline
    assert f"run {feed_run.pk} (feed, applied): searchable after" in charts
    assert f"run {hour_run.pk} (events, {hour_run.source}): searchable after" in charts
    assert f"run {feed_run.pk} (feed, applied): 0.0% of 2 lines rejected" in charts
    assert f"run {hour_run.pk} (events, {hour_run.source}): 0.0%" not in charts
