"""Bad feeds: each rejection names the line and the field, and a refused feed changes nothing stored."""

import json
import tracemalloc

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from catalog.models import SKU, Category, Product
from knowledge.ingestion.formats import MAX_LINE_BYTES, feed_lines
from knowledge.ingestion.run import LOCK_NAMESPACE
from tests import factories
from tests.knowledge.ingestion_helpers import run_import, stored_state, write_feed

pytestmark = pytest.mark.django_db

BASE = [
    {"type": "category", "path": "tools", "name": "Tools"},
    {"type": "price_list", "code": "retail", "name": "Retail", "currency": "EUR"},
    {"type": "warehouse", "code": "main", "name": "Main"},
    {"type": "product", "handle": "drill", "category": "tools", "title": "Drill"},
    {"type": "sku", "code": "DR-1", "product": "drill"},
]
EDIT = {"type": "product", "handle": "drill", "category": "tools", "title": "Drill, renamed"}  # valid, not applied


@pytest.fixture
def shop(tmp_path):
    tenant = factories.TenantFactory(slug="bad-input-shop")
    assert run_import(write_feed(tmp_path / "base.jsonl", BASE), tenant)[0]
    return tenant


def _refused(tenant, path, *expected: str):
    """Import `path`; assert it failed naming every `expected` text and stored nothing."""
    before = stored_state(tenant)
    ok, out = run_import(path, tenant)
    assert not ok, out
    for text in expected:
        assert text in out, out
    assert stored_state(tenant) == before
    return out


def test_import_catalog__a_malformed_json_line(shop, tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps(EDIT) + '\n{"type": "product", "handle": \n')
    _refused(shop, path, "feed.jsonl line 2, field -: malformed JSON")


def test_import_catalog__a_csv_file_without_a_required_column(shop, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("handle,category\ndrill,tools\n")
    _refused(shop, path, "products.csv line 1, field title: the product file has no `title` column",
             "products.csv line 2, field title: 'title' is a required property")  # fmt: skip


def test_import_catalog__values_of_the_wrong_type(shop, tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", [EDIT, {"type": "stock", "warehouse": "main", "sku": "DR-1",
                                                       "quantity": "many"}])  # fmt: skip
    _refused(shop, path, "line 2, field quantity: 'many' is not of type 'integer'")
    path = write_feed(tmp_path / "attrs.jsonl", [{**EDIT, "attributes": ["red"]}])
    _refused(shop, path, "line 1, field attributes: ['red'] is not of type 'object'")


def test_import_catalog__an_unknown_category(shop, tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", [{**EDIT, "category": "garden/hoses"}])
    _refused(shop, path, "line 1, field category: unknown category 'garden/hoses'")


def test_import_catalog__a_category_under_an_unknown_parent(shop, tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", [EDIT, {"type": "category", "path": "garden/hoses", "name": "Hoses"}])
    _refused(shop, path, "line 2, field path: unknown category 'garden'")


def test_import_catalog__a_duplicate_sku_code_in_one_file_and_across_products(shop, tmp_path):
    twice = [EDIT, {"type": "sku", "code": "DR-9", "product": "drill"}, {"type": "sku", "code": "DR-9",
             "product": "drill"}]  # fmt: skip
    _refused(shop, write_feed(tmp_path / "a.jsonl", twice), "line 2, field code: duplicate key 'DR-9'", "line 3")
    other = {"type": "product", "handle": "saw", "category": "tools", "title": "Saw"}
    across = [other, {"type": "sku", "code": "DR-7", "product": "drill"}, {"type": "sku", "code": "DR-7",
              "product": "saw"}]  # fmt: skip
    _refused(shop, write_feed(tmp_path / "b.jsonl", across), "line 3, field code: duplicate key 'DR-7'")
    moved = [other, {"type": "sku", "code": "DR-1", "product": "saw"}]
    _refused(shop, write_feed(tmp_path / "c.jsonl", moved), "line 2, field product: SKU 'DR-1' belongs to product")


def test_import_catalog__a_negative_price(shop, tmp_path):
    for amount, message in ((-5, "-5 is less than the minimum of 0"), ("-5.00", "does not match")):
        path = write_feed(tmp_path / "feed.jsonl", [EDIT, {"type": "price", "price_list": "retail", "sku": "DR-1",
                                                           "amount": amount}])  # fmt: skip
        _refused(shop, path, f"line 2, field amount: {message}" if amount == -5 else "field amount")
        assert not SKU.objects.get(code="DR-1").prices.exists()


def test_import_catalog__a_50_mb_line_is_refused_unread(shop, tmp_path):
    path = tmp_path / "feed.jsonl"
    with open(path, "w") as out:
        out.write(json.dumps(EDIT) + "\n" + '{"type": "document", "slug": "big", "body": "')
        for _ in range(50):
            out.write("x" * 2**20)
        out.write('"}\n' + json.dumps(EDIT) + "\n")
    _refused(shop, path, f"line 2, field -: the line is longer than {MAX_LINE_BYTES // 2**20} MiB")

    tracemalloc.start()
    lines = [(line.line, bool(line.problems)) for line in feed_lines(path)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert lines == [(1, False), (2, True), (3, False)]
    assert peak < 3 * MAX_LINE_BYTES  # never the whole 50 MB line


def test_import_catalog__broken_utf8(shop, tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(json.dumps(EDIT).encode() + b'\n{"type": "category", "path": "x", "name": "Caf\xe9"}\n')
    _refused(shop, path, "line 2, field -: not valid UTF-8")


def test_import_catalog__a_pdf_that_is_not_one(shop, tmp_path):
    (tmp_path / "manual.pdf").write_text("# Just markdown\n\nNot a PDF at all.")
    record = {"type": "document", "slug": "drill-manual", "kind": "manual", "title": "Manual", "file": "manual.pdf"}
    path = write_feed(tmp_path / "feed.jsonl", [EDIT, record])
    _refused(shop, path, "line 2, field file: manual.pdf: This file is not a PDF")


def test_import_catalog__a_record_of_another_tenant(shop, tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", [EDIT, {**EDIT, "handle": "saw", "tenant": "other-shop"}])
    _refused(shop, path, "line 2, field tenant: the record names tenant 'other-shop', not 'bad-input-shop'")


def test_import_catalog__an_unknown_tenant_is_a_command_error(tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", BASE)
    with pytest.raises(CommandError, match="unknown tenant 'no-such-shop'"):
        call_command("import_catalog", str(path), "--tenant", "no-such-shop")
    assert not Product.objects.exists()


def test_import_catalog__valid_lines_apply_below_the_reject_threshold(shop, tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", [EDIT, {**EDIT, "handle": "saw", "category": "nowhere"}])
    ok, out = run_import(path, shop, "--max-reject-share", "0.5")
    assert not ok and "1 lines rejected" in out and "the valid lines were applied" in out
    assert Product.objects.get(tenant=shop, handle="drill").title == "Drill, renamed"
    assert not Product.objects.filter(tenant=shop, handle="saw").exists()
    report = next(tmp_path.glob("feed.jsonl.run-*.report.csv")).read_text().splitlines()
    assert (
        report[0] == "file,line,type,key,field,problem"
        and report[1] == "feed.jsonl,2,product,saw,category,unknown category 'nowhere'"
    )


def test_import_catalog__a_category_that_still_holds_products_is_not_deleted(shop, tmp_path):
    path = write_feed(tmp_path / "feed.jsonl", [{"type": "category", "path": "tools", "deleted": True}])
    ok, out = run_import(path, shop)
    assert not ok and "1 rows not applied" in out
    assert "feed.jsonl line 1, field -: not applied: other rows still refer to it" in out
    assert Category.objects.filter(tenant=shop, slug="tools").exists()


def test_import_catalog__one_import_per_tenant_at_a_time(shop, tmp_path):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, shop.pk])
        ok, out = run_import(write_feed(tmp_path / "feed.jsonl", [EDIT]), shop)
    finally:
        other.close()
    assert not ok and "another import into 'bad-input-shop' is running" in out
    assert Product.objects.get(tenant=shop, handle="drill").title == "Drill"
