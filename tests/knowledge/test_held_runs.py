"""Held runs: each trigger holds a run after decide (nothing applied); editors see a notice, then apply or discard."""

import importlib

import pytest
from celery import current_app
from django.apps import apps
from django.conf import settings
from django.urls import reverse

from catalog.contracts import FieldSpec, attribute_contract_publish
from catalog.models import Category, Product
from knowledge.models import IngestionRun, IngestionSettings
from tests import factories
from tests.knowledge.ingestion_helpers import run_import, stored_state, write_feed
from tests.test_admin import admin_url, login_editor
from tests.worker import wait_until

db = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)

CATEGORY = {"type": "category", "path": "tools", "name": "Tools"}


def _products(count: int, start: int = 0, **attributes) -> list[dict]:
    return [
        {"type": "product", "handle": f"p-{n}", "category": "tools", "title": f"Product {n}", "attributes": attributes}
        for n in range(start, start + count)
    ]


def _held(tenant, path, *expected: str) -> IngestionRun:
    """Import `path`; assert the run is held naming `expected`, with its admin link, and nothing stored changed."""
    before = stored_state(tenant)
    ok, out = run_import(path, tenant)
    run = IngestionRun.objects.filter(tenant=tenant).first()
    assert not ok and run.state == "held", out
    url = settings.SITE_URL + reverse("admin:knowledge_ingestionrun_change", args=[run.pk])
    assert f"run {run.pk} is held for review: nothing was applied." in out and url in out
    for text in expected:
        assert text in out, out
    assert stored_state(tenant) == before
    return run


@pytest.fixture
def shop(tmp_path):
    tenant = factories.TenantFactory(slug="held-shop")
    assert run_import(write_feed(tmp_path / "base.jsonl", [CATEGORY, *_products(3, weight_kg=1.5)]), tenant)[0]
    return tenant


@db
def test_held_run__too_many_rejected_lines(shop, tmp_path):
    assert IngestionSettings(tenant=shop).max_reject_share == 0.10  # the threshold import_catalog always had
    feed = write_feed(tmp_path / "feed.jsonl", [*_products(2, weight_kg=2.0), {"type": "product", "handle": "x"}])

    run = _held(shop, feed, "1 of 3 lines rejected (33%, over 10%)", "feed.jsonl line 3, field category")

    assert [r["trigger"] for r in run.held_reasons] == ["rejected"]
    IngestionSettings.objects.create(tenant=shop, max_reject_share=0.5)
    ok, out = run_import(feed, shop)  # the same feed decides the held run afresh: it now applies
    assert "1 lines rejected" in out and "the valid lines were applied" in out
    run.refresh_from_db()
    assert run.state == "applied" and Product.objects.get(tenant=shop, handle="p-0").attributes == {"weight_kg": 2.0}


@db
def test_held_run__a_required_attribute_missing_on_many_rows(shop, tmp_path):
    tools = Category.objects.get(tenant=shop, slug="tools")
    attribute_contract_publish(category=tools, fields=[FieldSpec("weight_kg", "number", unit="kg", required=True)])
    feed = write_feed(tmp_path / "feed.jsonl", [*_products(18, weight_kg="2 kg"), *_products(2, start=18)])

    run = _held(shop, feed, "required attributes.weight_kg missing on 2 of 20 products under the contract of "
                            "“tools” (10%, over 5%)")  # fmt: skip

    assert [r["trigger"] for r in run.held_reasons] == ["missing"]  # 2 of 20 lines rejected: not over 10 %
    assert run.profile["contracts"]["missing"] == [
        {"category": "tools", "field": "attributes.weight_kg", "missing": 2, "rows": 20, "share": 0.1}]  # fmt: skip


@db
def test_held_run__a_field_changing_type_against_the_previous_applied_run(shop, tmp_path):
    base_run = IngestionRun.objects.get(tenant=shop)
    feed = write_feed(tmp_path / "feed.jsonl", _products(3, weight_kg="heavy"))

    run = _held(shop, feed, f"product.attributes.weight_kg was number in run {base_run.pk}, now text")

    assert [r["trigger"] for r in run.held_reasons] == ["type"]
    assert run.profile["counts"]["rejected"] == 0
    IngestionSettings.objects.create(tenant=shop, hold_on_type_change=False)
    dry = run_import(feed, shop, "--dry-run")
    assert dry[0] and "would be held" not in dry[1]


@db
def test_held_runs__editors_see_a_notice_on_the_index_and_the_catalog_lists(shop, client, tmp_path):
    login_editor(client)
    notice = "held for review"
    assert notice not in client.get(reverse("admin:index")).content.decode()
    _held(shop, write_feed(tmp_path / "feed.jsonl", [{"type": "product", "handle": "x"}]))

    pages = [reverse("admin:index"), admin_url(Product, "changelist"), admin_url(Category, "changelist")]
    held_list = reverse("admin:knowledge_ingestionrun_changelist") + "?state__exact=held"
    for url in pages:
        page = client.get(url).content.decode()
        assert "1 feed run is held for review" in page and held_list in page, url
    listing = client.get(held_list)
    assert [r.state for r in listing.context["cl"].result_list] == ["held"]


@db
def test_held_run__discarded_from_the_admin_applies_nothing(shop, client, tmp_path):
    user = login_editor(client)
    run = _held(shop, write_feed(tmp_path / "feed.jsonl", _products(2, weight_kg="heavy")))
    page = client.get(admin_url(run, "change")).content.decode()
    assert "Discard this run" in page and "Apply this run" in page and "was number in run" in page
    before = stored_state(shop)

    response = client.post(
        reverse("admin:knowledge_ingestionrun_changelist"), {"action": "discard_held", "_selected_action": [run.pk]}
    )

    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.state, run.reviewed_by, run.finished_at is not None) == ("discarded", user, True)
    assert stored_state(shop) == before
    assert "held for review" not in client.get(reverse("admin:index")).content.decode()
    again = client.post(
        reverse("admin:knowledge_ingestionrun_changelist"), {"action": "apply_held", "_selected_action": [run.pk]},
        follow=True,
    )  # fmt: skip
    assert f"Run {run.pk} is not held for review (it is discarded after review)." in again.content.decode()


@committed
def test_held_run__applied_from_the_admin_by_the_worker(client, tmp_path, live_worker):
    tenant = factories.TenantFactory(slug="held-apply-shop")
    assert run_import(write_feed(tmp_path / "base.jsonl", [CATEGORY, *_products(3, weight_kg=1.5)]), tenant)[0]
    user = login_editor(client)
    run = _held(tenant, write_feed(tmp_path / "feed.jsonl", _products(3, weight_kg="heavy")))

    response = client.post(
        reverse("admin:knowledge_ingestionrun_changelist"), {"action": "apply_held", "_selected_action": [run.pk]}
    )

    assert response.status_code == 302
    wait_until(lambda: IngestionRun.objects.get(pk=run.pk).profile["counts"].get("applied"), 60,
               message="the held run applied and its profile completed")  # fmt: skip
    run.refresh_from_db()
    assert run.state == "applied" and run.reviewed_by == user and run.profile["counts"]["applied"] == 3
    assert [p.attributes for p in Product.objects.filter(tenant=tenant).order_by("handle")] == [
        {"weight_kg": "heavy"}] * 3  # fmt: skip


@pytest.fixture
def broker_unreachable():
    """Point the Celery app at a port nothing listens on (connections are refused), then restore its own pools
    (kombu keeps pools per broker URL process-wide: the working ones are left open for the tests after)."""
    app = current_app._get_current_object()
    saved = (app.conf.broker_url, app._pool, app.amqp._producer_pool)
    app._pool = app.amqp._producer_pool = None
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    yield
    app.pool.force_close_all()  # the unreachable URL's pool only
    app.conf.broker_url, app._pool, app.amqp._producer_pool = saved


@committed
def test_held_run__apply_with_the_task_queue_down_stays_held_and_says_so(client, tmp_path, broker_unreachable):
    tenant = factories.TenantFactory(slug="held-nobroker-shop")
    assert run_import(write_feed(tmp_path / "base.jsonl", [CATEGORY, *_products(2, weight_kg=1.5)]), tenant)[0]
    login_editor(client)
    run = _held(tenant, write_feed(tmp_path / "feed.jsonl", _products(2, weight_kg="heavy")))
    before = stored_state(tenant)

    response = client.post(
        reverse("admin:knowledge_ingestionrun_changelist"), {"action": "apply_held", "_selected_action": [run.pk]},
        follow=True,
    )  # fmt: skip

    run.refresh_from_db()
    assert (run.state, run.reviewed_by, run.reviewed_at) == ("held", None, None)
    page = response.content.decode()
    assert f"Run {run.pk} could not be queued for a worker (the task queue is unavailable)" in page
    assert f"Run {run.pk} will be applied" not in page
    assert stored_state(tenant) == before


@pytest.mark.django_db
def test_migration__runs_refused_before_held_runs_existed_read_as_discarded():
    migration = importlib.import_module("knowledge.migrations.0018_ingestion_run_no_refused")
    tenant = factories.TenantFactory()
    old = IngestionRun.objects.create(tenant=tenant, source="old.jsonl", content_hash="1" * 64, state="refused")
    applied = IngestionRun.objects.create(tenant=tenant, source="ok.jsonl", content_hash="2" * 64, state="applied")

    migration.refused_to_discarded(apps, None)

    old.refresh_from_db()
    applied.refresh_from_db()
    assert (old.state, old.held_reasons[0]["trigger"]) == ("discarded", "rejected")
    assert applied.state == "applied"
