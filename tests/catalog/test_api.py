"""The storefront catalog API: /api/v1/products/ and /api/v1/skus/."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services as catalog_services
from catalog.api import ProductListApi, SkuListApi
from catalog.models import SKU, CustomerGroup, Tenant
from catalog.selectors import category_entitled_ids, product_list, sku_list, sku_prices, stock_totals
from core.tenancy import Caller
from tests import factories

pytestmark = pytest.mark.django_db

PRODUCTS, SKUS = "/api/v1/products/", "/api/v1/skus/"


@dataclass
class Shop:
    tenant: object
    categories: dict
    b2b: object
    retail_client: object
    b2b_client: object
    warehouses: dict


def _sku(product, code, *, retail=None, b2b=None, stock=(), shop_lists=None, is_active=True):
    sku = factories.sku(product, code=code, is_active=is_active)
    retail_list, b2b_list, warehouses = shop_lists
    if retail is not None:
        catalog_services.price_set(price_list=retail_list, sku=sku, amount=Decimal(retail))
    if b2b is not None:
        catalog_services.price_set(price_list=b2b_list, sku=sku, amount=Decimal(b2b))
    for warehouse, quantity in stock:
        catalog_services.stock_set(sku=sku, warehouse=warehouses[warehouse], quantity=quantity)
    return sku


@pytest.fixture
def shop():
    """Audio › Headphones › In-ear, and Kitchen; a retail list and a B2B group entitled to Headphones only."""
    tenant = factories.TenantFactory(slug="acme")
    audio = factories.CategoryFactory(tenant=tenant, slug="audio", name="Audio")
    headphones = factories.CategoryFactory(tenant=tenant, slug="headphones", name="Headphones", parent=audio)
    in_ear = factories.CategoryFactory(tenant=tenant, slug="in-ear", name="In-ear", parent=headphones)
    kitchen = factories.CategoryFactory(tenant=tenant, slug="kitchen", name="Kitchen")
    b2b = factories.CustomerGroupFactory(tenant=tenant, code="b2b", all_categories=False)
    b2b.categories.set([headphones])
    retail_list = factories.PriceListFactory(tenant=tenant, code="retail", currency="EUR")
    b2b_list = factories.PriceListFactory(tenant=tenant, code="b2b", currency="EUR", customer_group=b2b)
    warehouses = {
        code: factories.WarehouseFactory(tenant=tenant, code=code, name=code.title(), country=country)
        for code, country in (("berlin", "DE"), ("paris", "FR"))
    }
    lists = (retail_list, b2b_list, warehouses)

    def product(handle, title, category, **fields):
        return factories.product(tenant, category, handle=handle, title=title, **fields)

    speaker = product("speaker", "Bass speaker", audio, brand="Sonic", compliance_category="contains_batteries")
    _sku(speaker, "SPK-1", retail="100.00", b2b="80.00", stock=[("berlin", 3)], shop_lists=lists)
    _sku(speaker, "SPK-OLD", retail="1.00", stock=[("berlin", 9)], shop_lists=lists, is_active=False)
    headphone = product("headphone", "Closed headphone", headphones, brand="Aural")
    _sku(headphone, "HP-1", retail="50.00", b2b="40.00", stock=[("berlin", 0)], shop_lists=lists)
    _sku(headphone, "HP-2", retail="70.00", stock=[("berlin", 0), ("paris", 5)], shop_lists=lists)
    earbud = product("earbud", "Earbud", in_ear, brand="Aural")
    _sku(earbud, "EB-1", retail="30.00", b2b="25.00", shop_lists=lists)
    kettle = product("kettle", "Kettle", kitchen, brand="Brew")
    _sku(kettle, "KT-1", retail="20.00", stock=[("paris", 10)], shop_lists=lists)
    retired = product("retired", "Retired radio", audio, is_active=False)
    _sku(retired, "RT-1", retail="10.00", stock=[("berlin", 1)], shop_lists=lists)

    _, retail_raw = factories.api_key(tenant)
    _, b2b_raw = factories.api_key(tenant, b2b)
    return Shop(
        tenant=tenant,
        categories={"audio": audio, "headphones": headphones, "in-ear": in_ear, "kitchen": kitchen},
        b2b=b2b,
        retail_client=factories.api_client(retail_raw),
        b2b_client=factories.api_client(b2b_raw),
        warehouses=warehouses,
    )


def _handles(response):
    assert response.status_code == 200, response.content
    return [row["handle"] for row in response.json()["results"]]


def _codes(response):
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


# Lists and details ------------------------------------------------------------------------------------------


def test_product_list__shows_active_products_with_price_ranges_and_stock(shop):
    response = shop.retail_client.get(PRODUCTS)

    assert _handles(response) == ["speaker", "headphone", "earbud", "kettle"]  # by title; "retired" is inactive
    rows = {row["handle"]: row for row in response.json()["results"]}
    assert rows["speaker"]["prices"] == [{"currency": "EUR", "min": "100.00", "max": "100.00"}]  # SPK-OLD hidden
    assert rows["headphone"]["prices"] == [{"currency": "EUR", "min": "50.00", "max": "70.00"}]
    assert rows["headphone"]["category"] == {"slug": "headphones", "name": "Headphones"}
    assert {h: r["in_stock"] for h, r in rows.items()} == {
        "speaker": True,
        "headphone": True,
        "earbud": False,
        "kettle": True,
    }


def test_product_detail__shows_active_skus_with_prices(shop):
    response = shop.retail_client.get(f"{PRODUCTS}headphone/")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Closed headphone"
    assert [(s["code"], s["in_stock"], s["prices"]) for s in body["skus"]] == [
        ("HP-1", False, [{"amount": "50.00", "currency": "EUR", "price_list": "retail"}]),
        ("HP-2", True, [{"amount": "70.00", "currency": "EUR", "price_list": "retail"}]),
    ]


def test_product_detail__unknown_handle_is_404_with_message(shop):
    response = shop.retail_client.get(f"{PRODUCTS}nope/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No product 'nope'."}


def test_sku_detail__shows_stock_total_and_per_warehouse(shop):
    response = shop.retail_client.get(f"{SKUS}HP-2/")

    assert response.status_code == 200
    body = response.json()
    assert body["product"] == {"handle": "headphone", "title": "Closed headphone"}
    assert body["stock_total"] == 5 and body["in_stock"] is True
    assert [(s["warehouse"], s["country"], s["quantity"]) for s in body["stock"]] == [
        ("berlin", "DE", 0),
        ("paris", "FR", 5),
    ]


def test_sku_detail__code_with_slash_resolves(shop):
    product = factories.product(shop.tenant, shop.categories["kitchen"], handle="pan", title="Pan")
    factories.sku(product, code="PAN/28")

    assert shop.retail_client.get(f"{SKUS}PAN/28/").json()["code"] == "PAN/28"
    assert shop.retail_client.get(f"{SKUS}PAN%2F28/").json()["code"] == "PAN/28"


def test_sku_list__lists_active_skus_of_visible_products(shop):
    response = shop.retail_client.get(SKUS)

    assert _codes(response) == ["EB-1", "HP-1", "HP-2", "KT-1", "SPK-1"]
    row = response.json()["results"][0]
    assert row["prices"] == [{"amount": "30.00", "currency": "EUR", "price_list": "retail"}]
    assert "stock" not in row and row["in_stock"] is False


# Prices by customer group -----------------------------------------------------------------------------------


def test_prices__group_with_its_own_list_sees_that_list_only(shop):
    body = shop.b2b_client.get(f"{PRODUCTS}headphone/").json()

    prices = {s["code"]: s["prices"] for s in body["skus"]}
    assert prices["HP-1"] == [{"amount": "40.00", "currency": "EUR", "price_list": "b2b"}]
    assert prices["HP-2"] == []  # the group's list has no price for it; the retail list does not apply


def test_prices__group_without_a_list_sees_the_default_list(shop):
    group = factories.CustomerGroupFactory(tenant=shop.tenant, code="members")
    _, raw = factories.api_key(shop.tenant, group)

    body = factories.api_client(raw).get(f"{SKUS}HP-1/").json()

    assert body["prices"] == [{"amount": "50.00", "currency": "EUR", "price_list": "retail"}]


def test_prices__several_lists_of_the_group_show_one_price_each(shop):
    usd = factories.PriceListFactory(tenant=shop.tenant, code="b2b-usd", currency="USD", customer_group=shop.b2b)
    catalog_services.price_set(price_list=usd, sku=SKU.objects.get(code="HP-1"), amount=Decimal("44"))

    row = shop.b2b_client.get(PRODUCTS, {"q": "closed"}).json()["results"][0]

    assert row["prices"] == [
        {"currency": "EUR", "min": "40.00", "max": "40.00"},
        {"currency": "USD", "min": "44.00", "max": "44.00"},
    ]


# Entitlements and inactive rows -----------------------------------------------------------------------------


def test_entitlement__group_sees_its_categories_and_their_descendants_only(shop):
    assert _handles(shop.b2b_client.get(PRODUCTS)) == ["headphone", "earbud"]
    assert _codes(shop.b2b_client.get(SKUS)) == ["EB-1", "HP-1", "HP-2"]
    assert shop.b2b_client.get(f"{PRODUCTS}speaker/").status_code == 404
    assert shop.b2b_client.get(f"{SKUS}SPK-1/").status_code == 404
    assert shop.b2b_client.get(f"{SKUS}KT-1/").status_code == 404
    assert _handles(shop.b2b_client.get(PRODUCTS, {"category": "audio"})) == ["headphone", "earbud"]
    assert _handles(shop.b2b_client.get(PRODUCTS, {"category": "kitchen"})) == []


def test_category_entitled_ids__includes_descendants_and_is_none_for_all(shop):
    group_caller = Caller.of(shop.tenant, shop.b2b)
    retail_caller = Caller.of(shop.tenant)

    assert category_entitled_ids(caller=group_caller) == {
        shop.categories["headphones"].pk,
        shop.categories["in-ear"].pk,
    }
    assert category_entitled_ids(caller=retail_caller) is None


def test_inactive__products_and_skus_are_hidden_from_storefront_keys(shop):
    assert shop.retail_client.get(f"{PRODUCTS}retired/").status_code == 404
    assert shop.retail_client.get(f"{SKUS}RT-1/").status_code == 404
    assert shop.retail_client.get(f"{SKUS}SPK-OLD/").status_code == 404
    assert _handles(shop.retail_client.get(PRODUCTS, {"is_active": "false"})) == []
    assert "SPK-OLD" not in _codes(shop.retail_client.get(SKUS, {"product": "speaker"}))


def test_inactive__staff_session_previews_them(shop, admin_client):
    response = admin_client.get(PRODUCTS, {"tenant": "acme", "is_active": "false"})
    detail = admin_client.get(f"{PRODUCTS}speaker/", {"tenant": "acme"}).json()

    assert _handles(response) == ["retired"]
    assert [s["code"] for s in detail["skus"]] == ["SPK-1", "SPK-OLD"]


# Filters ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "audio"}, ["speaker", "headphone", "earbud"]),
        ({"category": "headphones"}, ["headphone", "earbud"]),
        ({"category": "no-such-category"}, []),
        ({"brand": "aural"}, ["headphone", "earbud"]),
        ({"compliance_category": "contains_batteries"}, ["speaker"]),
        ({"q": "KETT"}, ["kettle"]),
        ({"in_stock": "true"}, ["speaker", "headphone", "kettle"]),
        ({"in_stock": "false"}, ["earbud"]),
        ({"is_active": "true", "brand": "Brew"}, ["kettle"]),
        ({"price_min": "60"}, ["speaker", "headphone"]),
        ({"price_max": "25"}, ["kettle"]),
        ({"price_min": "60", "price_max": "80"}, ["headphone"]),
        ({"price_min": "55", "price_max": "65"}, []),  # 50 and 70 exist, but no one SKU is within the range
        ({"category": "audio", "in_stock": "false"}, ["earbud"]),
    ],
)
def test_product_list__filters(shop, params, expected):
    assert _handles(shop.retail_client.get(PRODUCTS, params)) == expected


def test_product_list__price_filters_use_the_callers_price_list(shop):
    assert _handles(shop.b2b_client.get(PRODUCTS, {"price_max": "45"})) == ["headphone", "earbud"]
    assert _handles(shop.retail_client.get(PRODUCTS, {"price_max": "45"})) == ["earbud", "kettle"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"product": "headphone"}, ["HP-1", "HP-2"]),
        ({"code": "hp-1"}, ["HP-1"]),
        ({"in_stock": "true"}, ["HP-2", "KT-1", "SPK-1"]),
        ({"price_max": "25"}, ["KT-1"]),
        ({"price_min": "60", "product": "headphone"}, ["HP-2"]),
    ],
)
def test_sku_list__filters(shop, params, expected):
    assert _codes(shop.retail_client.get(SKUS, params)) == expected


# Bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (PRODUCTS, {"price_min": "abc"}, "price_min"),
        (PRODUCTS, {"price_min": "-1"}, "price_min"),
        (PRODUCTS, {"price_max": "NaN"}, "price_max"),
        (PRODUCTS, {"price_min": "10", "price_max": "5"}, "price_max"),
        (PRODUCTS, {"price_min": "1" * 40}, "price_min"),
        (PRODUCTS, {"page_size": "100000"}, "page_size"),
        (PRODUCTS, {"page_size": "0"}, "page_size"),
        (PRODUCTS, {"page": "abc"}, "page"),
        (PRODUCTS, {"compliance_category": "radioactive"}, "compliance_category"),
        (PRODUCTS, {"in_stock": "maybe"}, "in_stock"),
        (PRODUCTS, {"q": "x" * 5000}, "q"),
        (PRODUCTS, {"q": "a\x00b"}, "q"),
        (PRODUCTS, {"category": "x" * 500}, "category"),
        (SKUS, {"price_max": "abc"}, "price_max"),
        (SKUS, {"product": "p\x00"}, "product"),
        (SKUS, {"page_size": "-3"}, "page_size"),
    ],
)
def test_bad_input__is_a_400_naming_the_parameter(shop, url, params, field):
    response = shop.retail_client.get(url, params)

    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"{PRODUCTS}?q=%ff%fe",
        f"{PRODUCTS}?category=%ff%fe&brand=%c3%28",
        f"{PRODUCTS}?%ff=%fe",
        f"{SKUS}?product=%ff%fe&code=%80",
    ],
)
def test_bad_input__invalid_utf8_in_the_query_is_not_a_500(shop, url):
    response = shop.retail_client.get(url)

    assert response.status_code == 200, response.content
    assert isinstance(response.json()["results"], list)


@pytest.mark.parametrize(
    "path",
    [f"{PRODUCTS}%ff%fe/", f"{PRODUCTS}a%00b/", f"{PRODUCTS}{'a' * 5000}/", f"{SKUS}A%00B/", f"{SKUS}{'A' * 500}/"],
)
def test_bad_input__unusable_keys_in_the_path_are_404(shop, path):
    response = shop.retail_client.get(path)

    assert response.status_code == 404
    assert response.json()["detail"].startswith("No ")


def test_pagination__pages_and_page_size(shop):
    first = shop.retail_client.get(PRODUCTS, {"page_size": "3"}).json()
    second = shop.retail_client.get(PRODUCTS, {"page_size": "3", "page": "2"}).json()

    assert first["count"] == 4 and len(first["results"]) == 3 and first["next"]
    assert [r["handle"] for r in second["results"]] == ["kettle"] and second["next"] is None
    assert shop.retail_client.get(PRODUCTS, {"page": "9"}).status_code == 404


# Queries ----------------------------------------------------------------------------------------------------


def _catalog_of(size: int):
    tenant = factories.TenantFactory()
    category = factories.CategoryFactory(tenant=tenant)
    group = factories.CustomerGroupFactory(tenant=tenant, all_categories=False)
    group.categories.set([category])
    default = factories.PriceListFactory(tenant=tenant)
    warehouse = factories.WarehouseFactory(tenant=tenant)
    for _ in range(size):
        product = factories.product(tenant, category)
        for _ in range(2):
            sku = factories.sku(product)
            catalog_services.price_set(price_list=default, sku=sku, amount=Decimal("9.90"))
            catalog_services.stock_set(sku=sku, warehouse=warehouse, quantity=1)
    return Caller.of(tenant, group), category


@pytest.mark.parametrize("size", [2, 6])
def test_product_list__query_count_does_not_grow_with_the_page(size, django_assert_num_queries):
    caller, category = _catalog_of(size)
    filters = {"in_stock": "true", "price_max": "10", "category": category.slug}

    with django_assert_num_queries(3):  # products, their SKUs (with stock), the SKUs' prices
        rows = ProductListApi.OutputSerializer(product_list(caller=caller), many=True).data
    with django_assert_num_queries(3):
        filtered = ProductListApi.OutputSerializer(product_list(caller=caller, filters=filters), many=True).data

    assert len(rows) == len(filtered) == size and all(len(r["prices"]) == 1 for r in rows)


@pytest.mark.parametrize("size", [2, 6])
def test_sku_list__query_count_does_not_grow_with_the_page(size, django_assert_num_queries):
    caller, _ = _catalog_of(size)

    with django_assert_num_queries(2):  # SKUs (with product and stock), their prices
        rows = SkuListApi.OutputSerializer(sku_list(caller=caller, filters={"in_stock": "true"}), many=True).data

    assert len(rows) == 2 * size


def test_list_endpoints__same_query_count_for_2_and_6_products():
    counts = {}
    for size in (2, 6):
        caller, _ = _catalog_of(size)
        tenant, group = Tenant.objects.get(pk=caller.tenant_id), CustomerGroup.objects.get(pk=caller.customer_group_id)
        _, raw = factories.api_key(tenant, group)
        client = factories.api_client(raw)
        client.get(PRODUCTS)  # the first call stamps the key's last_used_at
        with CaptureQueriesContext(connection) as products:
            assert client.get(PRODUCTS).status_code == 200
        with CaptureQueriesContext(connection) as skus:
            assert client.get(SKUS).status_code == 200
        counts[size] = (len(products), len(skus))

    assert counts[2] == counts[6]


def test_stock_totals__sums_the_tenants_warehouses(shop):
    skus = {s.code: s.pk for s in SKU.objects.filter(tenant=shop.tenant)}
    caller = Caller.of(shop.tenant)

    totals = stock_totals(caller=caller, sku_ids=[skus["HP-2"], skus["EB-1"], skus["SPK-1"]])

    assert totals == {skus["HP-2"]: 5, skus["EB-1"]: 0, skus["SPK-1"]: 3}


def test_sku_prices__resolves_the_callers_list_per_sku(shop):
    skus = {s.code: s.pk for s in SKU.objects.filter(tenant=shop.tenant)}
    ids = [skus["HP-1"], skus["HP-2"]]

    b2b = sku_prices(caller=Caller.of(shop.tenant, shop.b2b), sku_ids=ids)
    retail = sku_prices(caller=Caller.of(shop.tenant), sku_ids=ids)

    assert {k: [(p.amount, p.price_list.code) for p in v] for k, v in b2b.items()} == {
        skus["HP-1"]: [(Decimal("40.00"), "b2b")],
        skus["HP-2"]: [],
    }
    assert [p.amount for p in retail[skus["HP-2"]]] == [Decimal("70.00")]


# Tenant isolation -------------------------------------------------------------------------------------------


def test_tenant_isolation__no_catalog_endpoint_returns_another_tenants_rows():
    a, b = factories.TenantFactory(slug="tenant-a"), factories.TenantFactory(slug="tenant-b")
    rows = {}
    for tenant in (a, b):
        name = tenant.slug[-1]
        category = factories.CategoryFactory(tenant=tenant, slug="shared-category")
        own_category = factories.CategoryFactory(tenant=tenant, slug=f"only-{name}")
        prices = factories.PriceListFactory(tenant=tenant, code="retail")
        warehouse = factories.WarehouseFactory(tenant=tenant, code="main", name=f"Main {name}")
        shared = factories.product(tenant, category, handle="shared", title=f"Shared {name}", brand="Same")
        own = factories.product(tenant, own_category, handle=f"only-{name}", title=f"Only {name}", brand="Same")
        shared_sku = factories.sku(shared, code="SAME-1")
        factories.sku(own, code=f"ONLY-{name.upper()}")
        catalog_services.price_set(price_list=prices, sku=shared_sku, amount=Decimal("10" if name == "a" else "99"))
        catalog_services.stock_set(sku=shared_sku, warehouse=warehouse, quantity=1 if name == "a" else 50)
        rows[name] = dict(prices=prices, warehouse=warehouse, sku=shared_sku)
    # Rows that wrongly cross tenants (services do not forbid them) must not leak either.
    catalog_services.price_set(price_list=rows["b"]["prices"], sku=rows["a"]["sku"], amount=Decimal("1"))
    catalog_services.stock_set(sku=rows["a"]["sku"], warehouse=rows["b"]["warehouse"], quantity=1000)
    _, raw = factories.api_key(a)
    client = factories.api_client(raw)

    assert _handles(client.get(PRODUCTS)) == ["only-a", "shared"]
    assert _handles(client.get(PRODUCTS, {"brand": "same", "category": "only-b"})) == []
    assert _handles(client.get(PRODUCTS, {"price_min": "50"})) == []
    assert client.get(f"{PRODUCTS}shared/").json()["title"] == "Shared a"
    assert client.get(f"{PRODUCTS}only-b/").status_code == 404
    assert _codes(client.get(SKUS)) == ["ONLY-A", "SAME-1"]
    assert _codes(client.get(SKUS, {"product": "only-b"})) == []
    assert _codes(client.get(SKUS, {"in_stock": "true"})) == ["SAME-1"]
    assert client.get(f"{SKUS}ONLY-B/").status_code == 404
    sku = client.get(f"{SKUS}SAME-1/").json()
    assert sku["prices"] == [{"amount": "10.00", "currency": "EUR", "price_list": "retail"}]
    assert sku["stock_total"] == 1
    assert [(s["name"], s["quantity"]) for s in sku["stock"]] == [("Main a", 1)]
