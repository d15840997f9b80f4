"""Read a tenant's live catalog as feed records (canonical form): what decide compares and export writes.

Each reader takes the tenant and, optionally, the natural keys to read (None: every row); a write of one
record reads only the rows it names.
"""

from collections import defaultdict
from collections.abc import Collection, Iterator
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

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
DOCUMENT_KINDS = {"review": [DocumentKind.REVIEW], "qa": [DocumentKind.QA]}  # the rest are `document` records

Keys = Collection[str] | None


def record_type_of_kind(kind: str) -> str:
    """The record type a document of this kind is written as: review, qa or document."""
    return next((record_type for record_type, kinds in DOCUMENT_KINDS.items() if kind in kinds), "document")


def _only(rows: QuerySet, keys: Keys, *columns: str) -> QuerySet:
    """Restrict rows to these natural keys (a composite key is its columns' values joined by "|")."""
    if keys is None:
        return rows
    if len(columns) == 1:
        return rows.filter(**{f"{columns[0]}__in": list(keys)})
    pairs = [dict(zip(columns, key.split("|", len(columns) - 1), strict=True)) for key in keys]
    return rows.filter(reduce(or_, (Q(**pair) for pair in pairs))) if pairs else rows.none()


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


def categories(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    paths = category_paths(tenant)
    rows = _only(Category.objects.filter(tenant=tenant), keys, "slug")
    for pk, name in rows.order_by("pk").values_list("pk", "name"):
        yield {"type": "category", "path": paths[pk], "name": name}


def customer_groups(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    paths = category_paths(tenant)
    groups = _only(CustomerGroup.objects.filter(tenant=tenant), keys, "code")
    for group in groups.prefetch_related("categories").order_by("code"):
        entitled = [] if group.all_categories else sorted(paths[c.pk] for c in group.categories.all())
        yield {"type": "customer_group", "code": group.code, "name": group.name, "categories": entitled}


def price_lists(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    rows = _only(PriceList.objects.filter(tenant=tenant), keys, "code")
    for code, name, currency, group in rows.order_by("code").values_list(
        "code", "name", "currency", "customer_group__code"
    ):
        yield {"type": "price_list", "code": code, "name": name, "currency": currency, "customer_group": group}


def warehouses(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    rows = _only(Warehouse.objects.filter(tenant=tenant), keys, "code")
    for code, name, country in rows.order_by("code").values_list("code", "name", "country"):
        yield {"type": "warehouse", "code": code, "name": name, "country": country}


def products(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    paths = category_paths(tenant)
    chosen = _only(Product.objects.filter(tenant=tenant), keys, "handle")
    translations, media = defaultdict(dict), defaultdict(list)
    own = {"product__tenant": tenant} if keys is None else {"product__in": chosen}
    for product_id, locale, title, description in ProductTranslation.objects.filter(**own).values_list(
        "product_id", "locale", "title", "description"
    ):
        translations[product_id][locale] = {"title": title, "description": description}
    for product_id, url in (
        ProductMedia.objects.filter(**own).order_by("product_id", "position").values_list("product_id", "url")
    ):
        media[product_id].append(url)
    fields = ("pk", "handle", "category_id", "title", "brand", "description", "attributes", "compliance_category",
              "is_active")  # fmt: skip
    for row in chosen.order_by("pk").values_list(*fields).iterator(ITER_CHUNK):
        pk, handle, category_id, title, brand, description, attributes, compliance, active = row
        yield {
            "type": "product", "handle": handle, "category": paths[category_id], "title": title, "brand": brand,
            "description": description, "attributes": attributes, "translations": translations.get(pk, {}),
            "media": media.get(pk, []), "compliance_category": compliance, "is_active": active,
        }  # fmt: skip


def skus(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    rows = (
        _only(SKU.objects.filter(tenant=tenant), keys, "code")
        .order_by("pk")
        .values_list("code", "product__handle", "attributes", "is_active", "margin_rate", "conversion_rate")
    )
    for code, handle, attributes, active, margin, conversion in rows.iterator(ITER_CHUNK):
        yield {
            "type": "sku", "code": code, "product": handle, "attributes": attributes, "is_active": active,
            "margin_rate": decimal_text(margin, RATE_PLACES), "conversion_rate": decimal_text(conversion, RATE_PLACES),
        }  # fmt: skip


def prices(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    rows = _only(Price.objects.filter(price_list__tenant=tenant), keys, "price_list__code", "sku__code").order_by("pk")
    for price_list, sku, amount in rows.values_list("price_list__code", "sku__code", "amount").iterator(ITER_CHUNK):
        yield {"type": "price", "price_list": price_list, "sku": sku, "amount": decimal_text(amount, MONEY_PLACES)}


def stock(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    rows = _only(StockLevel.objects.filter(warehouse__tenant=tenant), keys, "warehouse__code", "sku__code")
    for warehouse, sku, quantity in (
        rows.order_by("pk").values_list("warehouse__code", "sku__code", "quantity").iterator(ITER_CHUNK)
    ):
        yield {"type": "stock", "warehouse": warehouse, "sku": sku, "quantity": quantity}


def policies(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    fields = ("slug", "kind", "locale", "region", "title", "body")
    for row in _only(Policy.objects.filter(tenant=tenant), keys, "slug").order_by("slug").values_list(*fields):
        yield {"type": "policy", **dict(zip(fields, row, strict=True))}


def _documents(tenant: Tenant, keys: Keys, record_type: str, fields: tuple[str, ...]) -> Iterator[dict]:
    """Documents of the kinds a record type covers, with `product` as a handle and the body named `body_as`."""
    rows = _only(Document.objects.filter(tenant=tenant), keys, "slug")
    special = [kind for kinds in DOCUMENT_KINDS.values() for kind in kinds]
    kinds = DOCUMENT_KINDS.get(record_type)
    rows = rows.filter(kind__in=kinds) if kinds else rows.exclude(kind__in=special)
    for row in rows.order_by("slug").values_list(*fields).iterator(ITER_CHUNK):
        record = dict(zip(fields, row, strict=True))
        record["product"] = record.pop("product__handle")
        yield {"type": record_type, **record}


def documents(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    fields = ("slug", "kind", "format", "locale", "title", "body", "product__handle")
    yield from _documents(tenant, keys, "document", fields)


def reviews(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    fields = ("slug", "product__handle", "author", "body", "rating", "title", "locale")
    yield from _documents(tenant, keys, "review", fields)


def qa(tenant: Tenant, keys: Keys = None) -> Iterator[dict]:
    for record in _documents(tenant, keys, "qa", ("slug", "product__handle", "question", "body", "author", "locale")):
        record["answer"] = record.pop("body")
        yield record


def document_kinds(tenant: Tenant, keys: Keys = None) -> dict[str, str]:
    """The kind of each document slug (reviews, Q&A and documents share one slug space)."""
    return dict(_only(Document.objects.filter(tenant=tenant), keys, "slug").values_list("slug", "kind"))


LIVE = {
    "category": categories, "customer_group": customer_groups, "price_list": price_lists, "warehouse": warehouses,
    "product": products, "sku": skus, "price": prices, "stock": stock, "policy": policies, "document": documents,
    "review": reviews, "qa": qa,
}  # fmt: skip
