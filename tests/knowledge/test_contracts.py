"""Attribute contracts: checked and coerced on import and in the product form, versioned, edited in the admin."""

import csv
import json

import pytest

from catalog.contracts import (
    Contract,
    ContractBook,
    FieldSpec,
    attribute_contract_publish,
    contract_check,
)
from catalog.models import AttributeContract, Category, Product
from knowledge.models import IngestionRun, IngestionSettings
from tests import factories
from tests.knowledge.ingestion_helpers import run_import, stored_state, write_feed
from tests.test_admin import add_inline_row, admin_url, browser_form, form_errors, login_editor, submit

db = pytest.mark.django_db

POWER = FieldSpec("power_w", "number", unit="W", required=True)
COLOUR = FieldSpec("colour", "choice", allowed_values=("red", "blue"))
CORDLESS = FieldSpec("cordless", "boolean")
BASE = [
    {"type": "category", "path": "tools", "name": "Tools"},
    {"type": "category", "path": "tools/drills", "name": "Drills"},
    {"type": "category", "path": "tools/saws", "name": "Saws"},
    {
        "type": "product",
        "handle": "drill",
        "category": "tools/drills",
        "title": "Drill",
        "attributes": {"power_w": 500},
    },
]


def _product(handle: str, category: str = "tools/drills", **attributes) -> dict:
    return {"type": "product", "handle": handle, "category": category, "title": handle.title(),
            "attributes": attributes}  # fmt: skip


@pytest.fixture
def shop(tmp_path):
    tenant = factories.TenantFactory(slug="contract-shop")
    assert run_import(write_feed(tmp_path / "base.jsonl", BASE), tenant)[0]
    tools = Category.objects.get(tenant=tenant, slug="tools")
    attribute_contract_publish(category=tools, fields=[POWER, COLOUR, CORDLESS], note="first")
    return tenant


def _report(path) -> list[list[str]]:
    return list(csv.reader(open(path, encoding="utf-8")))[1:]


def test_contract_check__coerces_what_is_unambiguous_and_names_each_attribute_it_refuses():
    contract = Contract(1, 1, "tools", 1, (POWER, COLOUR, CORDLESS, FieldSpec("size", "integer"),
                                           FieldSpec("model", "text")))  # fmt: skip

    good = contract_check(contract, {"power_w": "2200 W", "colour": " RED ", "cordless": "yes", "size": 12.0,
                                     "model": 7, "extra": [1]})  # fmt: skip
    bad = contract_check(contract, {"power_w": "12,5", "colour": "purple", "cordless": "maybe", "size": "2.5",
                                    "model": True})  # fmt: skip
    missing = contract_check(contract, {"power_w": "  ", "colour": None})

    assert good.problems == () and good.coerced
    assert good.attributes == {"power_w": 2200, "colour": "red", "cordless": True, "size": 12, "model": "7",
                               "extra": [1]}  # fmt: skip
    assert [(p.field, p.problem) for p in bad.problems] == [
        ("attributes.power_w", "expected a number in W, got '12,5'"),
        ("attributes.colour", "expected one of: red, blue, got 'purple'"),
        ("attributes.cordless", "expected true or false, got 'maybe'"),
        ("attributes.size", "expected a whole number, got '2.5'"),
        ("attributes.model", "expected text, got True"),
    ]
    assert [(p.field, p.missing) for p in missing.problems] == [("attributes.power_w", True)]  # colour is optional
    assert not contract_check(contract, {"power_w": 5, "cordless": False}).coerced


@db
def test_import_catalog__products_breaking_the_contract_are_rejected_naming_line_and_field(shop, tmp_path):
    before = stored_state(shop)
    feed = write_feed(tmp_path / "feed.jsonl", [
        _product("drill", power_w="strong"),
        _product("hammer", colour="red"),
        _product("saw", category="tools/saws", power_w=900, colour="purple"),
    ])  # fmt: skip

    ok, out = run_import(feed, shop, "--report", str(tmp_path / "report.csv"))

    assert not ok
    assert "feed.jsonl line 1, field attributes.power_w: expected a number in W, got 'strong'" in out
    assert "feed.jsonl line 2, field attributes.power_w: required attribute missing (a number in W)" in out
    assert "feed.jsonl line 3, field attributes.colour: expected one of: red, blue, got 'purple'" in out
    assert ["feed.jsonl", "3", "product", "saw", "attributes.colour", "expected one of: red, blue, got 'purple'"] in (
        _report(tmp_path / "report.csv")
    )
    assert stored_state(shop) == before  # the drill kept its 500 W; hammer and saw were not created


@db
def test_import_catalog__coerces_valid_values_and_the_nearest_contract_wins(shop, tmp_path):
    drills = Category.objects.get(tenant=shop, slug="drills")
    attribute_contract_publish(category=drills, fields=[FieldSpec("chuck_mm", "integer", unit="mm", required=True)])
    feed = write_feed(tmp_path / "feed.jsonl", [
        _product("drill", chuck_mm="13 mm"),  # the drills' own contract: no power needed
        _product("saw", category="tools/saws", power_w="1800 W", colour="BLUE", cordless="no"),  # tools' contract
    ])  # fmt: skip

    ok, out = run_import(feed, shop)

    assert ok, out
    assert Product.objects.get(tenant=shop, handle="drill").attributes == {"chuck_mm": 13}
    assert Product.objects.get(tenant=shop, handle="saw").attributes == {"power_w": 1800, "colour": "blue",
                                                                          "cordless": False}  # fmt: skip
    ok, out = run_import(write_feed(tmp_path / "again.jsonl", [_product("drill", chuck_mm=13)]), shop)
    assert ok and IngestionRun.objects.filter(tenant=shop).first().counts["product"] == {"unchanged": 1}


@db
def test_import_catalog__a_product_leaving_its_attributes_out_is_checked_as_stored(shop, tmp_path):
    factories.product(
        shop, category=Category.objects.get(tenant=shop, slug="saws"), handle="old-saw", title="Old saw", attributes={}
    )
    IngestionSettings.objects.create(tenant=shop, max_reject_share=1, max_missing_share=1)
    feed = write_feed(tmp_path / "feed.jsonl", [
        {"type": "product", "handle": "old-saw", "category": "tools/saws", "title": "Old saw, renamed"},
        {"type": "product", "handle": "drill", "category": "tools/drills", "title": "Drill, renamed"},
    ])  # fmt: skip

    ok, out = run_import(feed, shop)

    assert not ok and "line 1, field attributes.power_w: required attribute missing" in out
    assert Product.objects.get(tenant=shop, handle="old-saw").title == "Old saw"  # its stored attributes break it
    assert Product.objects.get(tenant=shop, handle="drill").title == "Drill, renamed"  # 500 W stored: it passes


@db
def test_attribute_contract_publish__each_edit_is_a_new_version_and_the_newest_applies(shop):
    tools = Category.objects.get(tenant=shop, slug="tools")
    first = AttributeContract.objects.get(category=tools)

    second = attribute_contract_publish(category=tools, fields=[FieldSpec("power_w", "integer")], note="whole watts")

    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert sorted(first.fields.values_list("name", flat=True)) == ["colour", "cordless", "power_w"]  # untouched
    contract = ContractBook(shop.pk).for_path("tools/saws")
    assert (contract.version, [f.name for f in contract.fields]) == (2, ["power_w"])
    assert contract_check(contract, {"power_w": 1.5}).problems[0].problem == "expected a whole number, got 1.5"
    with pytest.raises(Exception, match="declared twice"):
        attribute_contract_publish(category=tools, fields=[FieldSpec("a"), FieldSpec("a")])
    assert AttributeContract.objects.filter(category=tools).count() == 2  # the refused version left nothing


@db
def test_product_admin__attributes_breaking_the_contract_are_field_errors(shop, client):
    login_editor(client)
    drill = Product.objects.get(tenant=shop, handle="drill")
    before = Product.objects.filter(pk=drill.pk).values().get()

    wrong = submit(client, admin_url(drill, "change"), {"attributes": json.dumps({"power_w": "strong"})})
    missing = submit(client, admin_url(drill, "change"), {"attributes": json.dumps({"colour": "red"})})
    outside = submit(client, admin_url(drill, "change"), {"attributes": json.dumps({"power_w": 1, "colour": "pink"})})

    source = "the contract of “tools”, version 1"
    assert f"attributes: “power_w”: expected a number in W, got 'strong' ({source})." in form_errors(wrong)
    assert f"attributes: “power_w”: required attribute missing (a number in W) ({source})." in form_errors(missing)
    assert f"attributes: “colour”: expected one of: red, blue, got 'pink' ({source})." in form_errors(outside)
    assert Product.objects.filter(pk=drill.pk).values().get() == before

    saved = submit(client, admin_url(drill, "change"), {"attributes": json.dumps({"power_w": "750 W"})})
    assert saved.status_code == 302
    drill.refresh_from_db()
    assert drill.attributes == {"power_w": 750} and drill.version == 2


@db
def test_attribute_contract_admin__an_editor_publishes_versions_through_the_inline(client):
    login_editor(client)
    category = factories.CategoryFactory(slug="kettles")
    url = admin_url(AttributeContract, "add")
    data = browser_form(client, url)
    data.update(tenant=category.tenant_id, category=category.pk, note="launch")
    data.update({"fields-0-name": "capacity_l", "fields-0-type": "number", "fields-0-unit": "l",
                 "fields-0-required": "on", "fields-1-name": "colour", "fields-1-type": "choice",
                 "fields-1-allowed_values": "white,black"})  # fmt: skip

    created = client.post(url, {**data, "_save": "Save"})

    assert created.status_code == 302, form_errors(created)
    first = AttributeContract.objects.get(category=category)
    assert first.version == 1 and first.created_by.username == "editor"
    assert list(first.fields.values_list("name", "type", "unit", "allowed_values", "required")) == [
        ("capacity_l", "number", "l", [], True), ("colour", "choice", "", ["white", "black"], False)]  # fmt: skip

    change = admin_url(first, "change")
    edit = browser_form(client, change)
    edit.update({"fields-1-allowed_values": "white,black,steel", "note": "steel finish"})
    add_inline_row(edit, "fields", {"name": "cordless", "type": "boolean"})
    edited = client.post(change, {**edit, "_continue": "Save and continue editing"})

    second = AttributeContract.objects.get(category=category, version=2)
    assert edited.status_code == 302 and edited["Location"] == admin_url(second, "change")
    assert second.note == "steel finish" and second.fields.count() == 3
    assert second.fields.get(name="colour").allowed_values == ["white", "black", "steel"]
    assert first.fields.get(name="colour").allowed_values == ["white", "black"]  # version 1 kept as it was
    history = client.get(change)
    assert history.status_code == 200 and "version 2" in history.content.decode()
    assert client.post(change, {**edit, "_save": "Save"}).status_code == 403  # an earlier version is read-only
    listing = client.get(admin_url(AttributeContract, "changelist") + f"?tenant__id__exact={category.tenant_id}")
    assert [c.version for c in listing.context["cl"].result_list] == [2, 1]


@db
def test_attribute_contract_admin__a_choice_without_values_is_a_form_error(client):
    login_editor(client)
    category = factories.CategoryFactory()
    url = admin_url(AttributeContract, "add")
    data = browser_form(client, url)
    data.update({"tenant": category.tenant_id, "category": category.pk, "fields-0-name": "colour",
                 "fields-0-type": "choice", "fields-1-name": "weight", "fields-1-type": "text",
                 "fields-1-unit": "kg"})  # fmt: skip

    response = client.post(url, {**data, "_save": "Save"})

    errors = form_errors(response)
    assert "fields.allowed_values: List the values a choice allows, separated by commas." in errors
    assert "fields.unit: Only a number or a whole number has a unit." in errors
    assert not AttributeContract.objects.filter(category=category).exists()
