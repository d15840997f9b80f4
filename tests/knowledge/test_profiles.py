"""Run profiles: counts, drift between runs, PII flags without the values, freshness once the worker has indexed;
the admin's run pages and per-tenant charts."""

import json
from datetime import datetime

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU, Product
from knowledge.admin.charts import nice_ticks
from knowledge.ingestion.freshness import run_freshness_record
from knowledge.ingestion.profile import PII_VALUE, PSI_MAJOR, PSI_MODERATE
from knowledge.models import IngestionRun
from tests import factories
from tests.knowledge.ingestion_helpers import run_import, write_feed
from tests.test_admin import admin_url, login_editor
from tests.worker import wait_until

db = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)

HEAD = [
    {"type": "category", "path": "tools", "name": "Tools"},
    {"type": "price_list", "code": "retail", "name": "Retail", "currency": "EUR"},
]


def _catalog(count: int, price=lambda n: 10 + n / 10, brand=lambda n: "Acme", **attributes) -> list[dict]:
    records = list(HEAD)
    for n in range(count):
        records += [
            {"type": "product", "handle": f"p-{n}", "category": "tools", "title": f"Product {n}", "brand": brand(n),
             "attributes": {"weight_kg": 1 + n % 7 / 10, **attributes}},
            {"type": "sku", "code": f"S-{n}", "product": f"p-{n}"},
            {"type": "price", "price_list": "retail", "sku": f"S-{n}", "amount": f"{price(n):.2f}"},
        ]  # fmt: skip
    return records


def _last_run(tenant) -> IngestionRun:
    return IngestionRun.objects.filter(tenant=tenant).first()


@db
def test_profile__counts_every_action_at_decide_and_the_writes_after_apply(tmp_path):
    tenant = factories.TenantFactory()
    records = _catalog(10)
    assert run_import(write_feed(tmp_path / "a.jsonl", records), tenant)[0]
    first = _last_run(tenant)
    assert first.profile["counts"] == {"new": 32, "changed": 0, "unchanged": 0, "deleted": 0, "rejected": 0,
                                       "applied": 32, "failed": 0}  # fmt: skip
    records[2] = {**records[2], "title": "Renamed 0"}
    records[5] = {**records[5], "title": "Renamed 1"}
    records[-1] = {"type": "price", "price_list": "retail", "sku": "S-9", "deleted": True}

    ok, out = run_import(write_feed(tmp_path / "b.jsonl", [*records, {"type": "product", "handle": "x"}]), tenant)

    assert not ok and "the valid lines were applied" in out
    assert _last_run(tenant).profile["counts"] == {"new": 0, "changed": 2, "unchanged": 29, "deleted": 1,
                                                   "rejected": 1, "applied": 3, "failed": 0}  # fmt: skip


@db
def test_profile__drift_finds_a_moved_distribution_and_a_new_field(tmp_path):
    tenant = factories.TenantFactory()
    assert run_import(write_feed(tmp_path / "a.jsonl", _catalog(40)), tenant)[0]
    before = _last_run(tenant)

    moved = _catalog(40, price=lambda n: 100 + n, brand=lambda n: "Acme" if n % 2 else "Bosch", colour="red")
    ok, out = run_import(write_feed(tmp_path / "b.jsonl", moved), tenant)

    assert ok, out
    drift = _last_run(tenant).profile["drift"]
    assert drift["previous_run"] == before.pk
    assert drift["appeared"] == ["product.attributes.colour"] and drift["vanished"] == []
    assert drift["type_changes"] == []
    by_field = {m["field"]: m for m in drift["fields"]}
    amount = by_field["price.amount"]
    assert amount["psi"] > PSI_MAJOR and amount["median"] == pytest.approx([11.95, 119.5])
    assert by_field["product.brand"]["psi"] > PSI_MODERATE
    assert by_field["product.brand"]["top_change"] == {"value": "Acme", "from": 1.0, "to": 0.5}
    assert by_field["product.attributes.weight_kg"]["psi"] == 0.0  # the same values: no shift
    assert drift["max_psi"] == amount["psi"] == drift["fields"][0]["psi"]

    ok, out = run_import(write_feed(tmp_path / "c.jsonl", moved[:-3]), tenant)  # the same, one product fewer
    assert ok, out
    assert _last_run(tenant).profile["drift"]["max_psi"] < PSI_MODERATE


@db
def test_profile__flags_pii_in_free_text_by_field_and_count_never_storing_the_value(tmp_path):
    tenant = factories.TenantFactory()
    records = _catalog(3, contact="sales@acme.example")
    records[2] = {**records[2], "description": "Questions? Write to anna.schmidt@example.com any time."}
    records[5] = {**records[5], "description": "Call +49 30 12345678 for spare parts."}

    ok, out = run_import(write_feed(tmp_path / "feed.jsonl", records), tenant)

    assert ok, out
    run = _last_run(tenant)
    assert run.profile["pii"] == {"product.description": {"EMAIL": 1, "PHONE": 1},
                                  "product.attributes.contact": {"EMAIL": 3}}  # fmt: skip
    stored = json.dumps([run.profile, run.held_reasons, run.counts])
    for value in ("anna.schmidt@example.com", "sales@acme.example", "12345678"):
        assert value not in stored
    assert run.profile["fields"]["product.attributes.contact"]["distribution"]["top"] == {PII_VALUE: 1.0}


@committed
def test_profile__freshness_is_recorded_once_the_worker_has_indexed_every_row(tmp_path, active_space, live_worker):
    live_worker.pause()  # the rows wait for indexing
    tenant = factories.TenantFactory(slug="fresh-shop")
    assert run_import(write_feed(tmp_path / "feed.jsonl", _catalog(3)), tenant)[0]
    run = _last_run(tenant)
    assert run.profile["freshness"]["applied_at"] and run.profile["freshness"]["indexed_at"] is None
    assert not run_freshness_record(run)

    live_worker.start()
    wait_until(lambda: _last_run(tenant).profile["freshness"]["indexed_at"], 120, message="freshness recorded")

    run.refresh_from_db()
    rows = [*Product.objects.filter(tenant=tenant), *SKU.objects.filter(tenant=tenant)]
    assert rows and not any(row.index_pending for row in rows)
    searchable = max([run.finished_at, *(row.indexed_at for row in rows)])
    fresh = run.profile["freshness"]
    assert datetime.fromisoformat(fresh["indexed_at"]) == searchable
    assert fresh["seconds"] == round((searchable - run.created_at).total_seconds(), 3) > 0


@db
def test_ingestion_admin__run_pages_and_charts_render_as_inline_svg(client, tmp_path):
    login_editor(client)
    tenant = factories.TenantFactory(name="Chart Shop")
    odd = {"<script>alert(1)</script>": 1}
    assert run_import(write_feed(tmp_path / "a.jsonl", _catalog(12, **odd)), tenant)[0]
    assert run_import(write_feed(tmp_path / "b.jsonl", _catalog(12, price=lambda n: 50 + n, **odd)), tenant)[0]
    run = _last_run(tenant)
    for model in (Product, SKU):  # as the worker leaves indexed rows
        model.objects.filter(tenant=tenant).update(indexed_hash=F("content_hash"), indexed_at=timezone.now())
    first = IngestionRun.objects.filter(tenant=tenant).last()
    assert run_freshness_record(first)  # the second run changed prices only: searchable once applied
    assert all(r.profile["freshness"]["seconds"] for r in IngestionRun.objects.filter(tenant=tenant))

    listing = client.get(admin_url(IngestionRun, "changelist"))
    page = client.get(admin_url(run, "change"))
    charts = client.get(reverse("admin:knowledge_ingestionrun_charts") + f"?tenant={tenant.pk}")

    assert listing.status_code == page.status_code == charts.status_code == 200
    assert "major shift" in listing.content.decode()
    body = page.content.decode()
    assert "<svg" in body and "Distribution shift per field (PSI)" in body and "price.amount" in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    shown = charts.content.decode()
    assert shown.count('role="img"') == 3 and "run started (UTC)" in shown  # the three charts
    assert ">PSI<" in shown and ">seconds<" in shown and ">share of lines<" in shown
    assert f"run {run.pk} (feed, applied): largest PSI" in shown and "0.25 major" in shown
    assert "<script>alert(1)</script>" not in shown


def test_charts__ticks_are_round_and_cover_the_largest_value():
    assert nice_ticks(0.37) == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
    assert nice_ticks(0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
