"""An import that dies (SIGKILL while applying, a crash while staging) resumes: no duplicates, no losses."""

import os
import signal
import subprocess
import sys

import pytest

from catalog.models import SKU, Price, Product, StockLevel
from knowledge.ingestion import staging
from knowledge.models import IngestionRun, StagedRecord
from tests import factories
from tests import worker as worker_tools
from tests.knowledge.ingestion_helpers import run_import, write_feed
from tests.worker import BASE_DIR, purge_queue, wait_until

committed = pytest.mark.django_db(transaction=True)
PRODUCTS = 60


def _feed(tmp_path):
    records = [
        {"type": "category", "path": "tools", "name": "Tools"},
        {"type": "price_list", "code": "retail", "name": "Retail", "currency": "EUR"},
        {"type": "warehouse", "code": "main", "name": "Main"},
    ]
    for n in range(PRODUCTS):
        records += [
            {"type": "product", "handle": f"p-{n}", "category": "tools", "title": f"Product {n}"},
            {"type": "sku", "code": f"P-{n}", "product": f"p-{n}"},
            {"type": "price", "price_list": "retail", "sku": f"P-{n}", "amount": f"{n}.50"},
            {"type": "stock", "warehouse": "main", "sku": f"P-{n}", "quantity": n},
        ]
    return write_feed(tmp_path / "feed.jsonl", records), len(records)


def _applied(tenant) -> int:
    return StagedRecord.objects.filter(run__tenant=tenant, applied=True).count()


def _assert_complete(tenant, lines: int) -> None:
    assert IngestionRun.objects.filter(tenant=tenant).count() == 1
    run = IngestionRun.objects.get(tenant=tenant)
    assert run.state == "applied" and run.records.count() == lines  # every line staged once
    assert sorted(run.records.values_list("line", flat=True)) == list(range(1, lines + 1))
    assert not run.records.filter(applied=False, action__in=StagedRecord.WRITES).exists()
    assert Product.objects.filter(tenant=tenant).count() == PRODUCTS
    assert set(Product.objects.filter(tenant=tenant).values_list("version", flat=True)) == {1}  # written once
    assert SKU.objects.filter(tenant=tenant).count() == PRODUCTS
    prices = dict(Price.objects.filter(sku__tenant=tenant).values_list("sku__code", "amount"))
    assert len(prices) == PRODUCTS and str(prices["P-7"]) == "7.50"
    assert StockLevel.objects.filter(sku__tenant=tenant).count() == PRODUCTS


@committed
def test_import_catalog__killed_while_applying_resumes_without_duplicates_or_losses(tmp_path):
    tenant = factories.TenantFactory(slug="killed-shop")
    feed, lines = _feed(tmp_path)
    env = {**os.environ, "DATABASE_URL": worker_tools.test_database_url(), "DATABASE_CONN_MAX_AGE": "0"}
    command = [sys.executable, "manage.py", "import_catalog", str(feed), "--tenant", tenant.slug,
               "--batch-size", "10", "--batch-pause", "0.3"]  # fmt: skip
    with open(tmp_path / "import.log", "wb") as log:
        proc = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_until(lambda: _applied(tenant) >= 50 or proc.poll() is not None, 120, message="50 rows applied")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "import.log").read_text()
    applied = _applied(tenant)
    assert 50 <= applied < lines
    assert 0 < Product.objects.filter(tenant=tenant).count() < PRODUCTS  # half-way through the products

    ok, out = run_import(feed, tenant)

    assert ok, out
    assert f"run {IngestionRun.objects.get(tenant=tenant).pk} (resumed)" in out
    _assert_complete(tenant, lines)
    purge_queue()


class _Crash(Exception):
    pass


@committed
def test_import_catalog__a_crash_while_staging_resumes_where_it_stopped(tmp_path, monkeypatch):
    tenant = factories.TenantFactory(slug="crashed-shop")
    feed, lines = _feed(tmp_path)
    record_prepare = staging.record_prepare

    def crash_on_line_95(record, tenant_slug, directory):
        if record.get("code") == "P-23":  # line 95
            raise _Crash
        return record_prepare(record, tenant_slug, directory)

    monkeypatch.setattr(staging, "STAGE_BATCH", 20)
    monkeypatch.setattr(staging, "record_prepare", crash_on_line_95)
    with pytest.raises(_Crash):
        run_import(feed, tenant)
    run = IngestionRun.objects.get(tenant=tenant)
    assert run.state == "staging" and run.staged_through == {"feed.jsonl": 80} and run.records.count() == 80
    assert not Product.objects.filter(tenant=tenant).exists()
    monkeypatch.setattr(staging, "record_prepare", record_prepare)

    ok, out = run_import(feed, tenant)

    assert ok, out
    _assert_complete(tenant, lines)
    purge_queue()
