"""Read a tenant's live catalog as feed records (canonical form): what decide compares and export writes."""

from collections import defaultdict
from collections.abc import Iterator

from catalog.models import (
    SKU,
    Category,
    CustomerGroup,
    Price,
    PriceList,
    Product,
    ProductTranslation,
    StockLevel,
    Tenant,
    Warehouse,
)
from knowledge.ingestion.formats import decimal_text
from knowledge.ingestion.records import MONEY_PLACES, RATE_PLACES
from knowledge.models import Document, DocumentKind, Policy, ProductMedia

ITER_CHUNK = 2_000  # rows fetched per round trip while streaming a large tenant


def category_paths(tenant: Tenant) -> dict[int, str]:
    """Every category's path of slugs, by id (one query)."""
    rows = {pk: (slug, parent) for pk, slug, parent in Category.objects.filter(tenant=tenant).values_list(
        "pk", "slug", "parent_id")}  # fmt: skip
    paths: dict[int, str] = {}

    def path_of(pk: int, seen: int = 0) -> str:
        if pk not in paths:
            slug, parent = rows[pk]
            paths[pk] = f"{path_of(parent, seen + 1)}/{slug}" if parent and seen < 50 else slug
        return paths[pk]

    for pk in rows:
        path_of(pk)
    return paths


def categories(tenant: Tenant) -> Iterator[dict]:
    paths = category_paths(tenant)
    for pk, name in Category.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "name"):
        yield {"type": "category", "path": paths[pk], "name": name}


def customer_groups(tenant: Tenant) -> Iterator[dict]:
    paths = category_paths(tenant)
    for group in CustomerGroup.objects.filter(tenant=tenant).prefetch_related("categories").order_by("code"):
        entitled = [] if group.all_categories else sorted(paths[c.pk] for c in group.categories.all())
        yield {"type": "customer_group", "code": group.code, "name": group.name, "categories": entitled}


def price_lists(tenant: Tenant) -> Iterator[dict]:
    for code, name, currency, group in (
        PriceList.objects.filter(tenant=tenant)
        .order_by("code")
        .values_list("code", "name", "currency", "customer_group__code")
    ):
        yield {"type": "price_list", "code": code, "name": name, "currency": currency, "customer_group": group}


def warehouses(tenant: Tenant) -> Iterator[dict]:
    for code, name, country in (
        Warehouse.objects.filter(tenant=tenant).order_by("code").values_list("code", "name", "country")
    ):
        yield {"type": "warehouse", "code": code, "name": name, "country": country}


def products(tenant: Tenant) -> Iterator[dict]:
    paths = category_paths(tenant)
    translations, media = defaultdict(dict), defaultdict(list)
    for product_id, locale, title, description in ProductTranslation.objects.filter(product__tenant=tenant).values_list(
        "product_id", "locale", "title", "description"
    ):
        translations[product_id][locale] = {"title": title, "description": description}
    for product_id, url in (
        ProductMedia.objects.filter(product__tenant=tenant)
        .order_by("product_id", "position")
        .values_list("product_id", "url")
    ):
        media[product_id].append(url)
    fields = ("pk", "handle", "category_id", "title", "brand", "description", "attributes", "compliance_category",
              "is_active")  # fmt: skip
    for row in Product.objects.filter(tenant=tenant).order_by("pk").values_list(*fields).iterator(ITER_CHUNK):
        pk, handle, category_id, title, brand, description, attributes, compliance, active = row
        yield {
            "type": "product", "handle": handle, "category": paths[category_id], "title": title, "brand": brand,
            "description": description, "attributes": attributes, "translations": translations.get(pk, {}),
            "media": media.get(pk, []), "compliance_category": compliance, "is_active": active,
        }  # fmt: skip


def skus(tenant: Tenant) -> Iterator[dict]:
    rows = (
        SKU.objects.filter(tenant=tenant)
        .order_by("pk")
        .values_list("code", "product__handle", "attributes", "is_active", "margin_rate", "conversion_rate")
    )
    for code, handle, attributes, active, margin, conversion in rows.iterator(ITER_CHUNK):
        yield {
            "type": "sku", "code": code, "product": handle, "attributes": attributes, "is_active": active,
            "margin_rate": decimal_text(margin, RATE_PLACES), "conversion_rate": decimal_text(conversion, RATE_PLACES),
        }  # fmt: skip


def prices(tenant: Tenant) -> Iterator[dict]:
    rows = Price.objects.filter(price_list__tenant=tenant).order_by("pk")
    for price_list, sku, amount in rows.values_list("price_list__code", "sku__code", "amount").iterator(ITER_CHUNK):
        yield {"type": "price", "price_list": price_list, "sku": sku, "amount": decimal_text(amount, MONEY_PLACES)}


def stock(tenant: Tenant) -> Iterator[dict]:
    rows = StockLevel.objects.filter(warehouse__tenant=tenant).order_by("pk")
    for warehouse, sku, quantity in rows.values_list("warehouse__code", "sku__code", "quantity").iterator(ITER_CHUNK):
        yield {"type": "stock", "warehouse": warehouse, "sku": sku, "quantity": quantity}


def policies(tenant: Tenant) -> Iterator[dict]:
    fields = ("slug", "kind", "locale", "region", "title", "body")
    for row in Policy.objects.filter(tenant=tenant).order_by("slug").values_list(*fields):
        yield {"type": "policy", **dict(zip(fields, row, strict=True))}


def documents(tenant: Tenant) -> Iterator[dict]:
    fields = ("slug", "kind", "format", "locale", "title", "body", "product__handle")
    rows = Document.objects.filter(tenant=tenant).exclude(kind=DocumentKind.REVIEW).order_by("slug")
    for row in rows.values_list(*fields).iterator(ITER_CHUNK):
        record = dict(zip(fields, row, strict=True))
        record["product"] = record.pop("product__handle")
        yield {"type": "document", **record}


def reviews(tenant: Tenant) -> Iterator[dict]:
    fields = ("slug", "product__handle", "author", "body", "rating", "title", "locale")
    rows = Document.objects.filter(tenant=tenant, kind=DocumentKind.REVIEW).order_by("slug")
    for row in rows.values_list(*fields).iterator(ITER_CHUNK):
        record = dict(zip(fields, row, strict=True))
        record["product"] = record.pop("product__handle")
        yield {"type": "review", **record}


LIVE = {
    "category": categories, "customer_group": customer_groups, "price_list": price_lists, "warehouse": warehouses,
    "product": products, "sku": skus, "price": prices, "stock": stock, "policy": policies, "document": documents,
    "review": reviews,
}  # fmt: skip
