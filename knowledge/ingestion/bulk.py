"""Bulk paths for the rows a first import creates in their thousands: new products and SKUs, prices, stock.

Each does what its service does for one row (validation, the indexing bookkeeping, scheduling indexing on
commit) with a few statements per batch instead of several per row. The decide phase has checked the keys and
references; the database's constraints back it, and a batch the database refuses is written row by row.
"""

from decimal import Decimal

from django.utils import timezone

from catalog.models import SKU, Price, PriceList, Product, ProductTranslation, StockLevel, Warehouse
from core.indexable import index_mark_changed, index_schedule
from knowledge.ingestion.context import Context
from knowledge.ingestion.rows import rows_update
from knowledge.models import ProductMedia, SourceKind

PRODUCT_FIELDS = ("title", "brand", "description", "attributes", "compliance_category", "is_active")
RESOLVED = ["tenant", "category", "product", "price_list", "sku", "warehouse"]  # looked up by key, not re-queried
# Unique and check constraints are the database's: checked per row they cost queries per row (a check
# constraint is evaluated by a query too); a batch the database refuses is written row by row, validated.
DATABASE_CHECKS = {"validate_unique": False, "validate_constraints": False}


def _given(payload: dict, *names: str) -> dict:
    return {name: payload[name] for name in names if name in payload}


def products_create(ctx: Context, payloads: list[dict]) -> None:
    """Create new products with their translations and media, as product_create does for one."""
    products = []
    for payload in payloads:
        product = Product(tenant=ctx.tenant, handle=payload["handle"], category=ctx.category(payload["category"]),
                          **_given(payload, *PRODUCT_FIELDS))  # fmt: skip
        index_mark_changed(product)
        product.full_clean(exclude=RESOLVED, **DATABASE_CHECKS)
        products.append(product)
    Product.objects.bulk_create(products)
    translations, media = [], []
    for product, payload in zip(products, payloads, strict=True):
        ctx.remember(Product, "handle", product)
        for locale, values in payload.get("translations", {}).items():
            translations.append(ProductTranslation(product=product, locale=locale, **values))
        media += [ProductMedia(product=product, position=i, url=url) for i, url in enumerate(payload.get("media", []))]
    for row in translations + media:
        row.full_clean(exclude=RESOLVED, **DATABASE_CHECKS)
    ProductTranslation.objects.bulk_create(translations)
    ProductMedia.objects.bulk_create(media)
    index_schedule(SourceKind.PRODUCT, [p.pk for p in products])


def skus_create(ctx: Context, payloads: list[dict]) -> None:
    """Create new SKUs, as sku_create does for one."""
    skus = []
    for payload in payloads:
        fields = _given(payload, "attributes", "is_active")
        fields.update({n: Decimal(payload[n]) for n in ("margin_rate", "conversion_rate") if n in payload})
        sku = SKU(tenant=ctx.tenant, product=ctx.product(payload["product"]), code=payload["code"], **fields)
        index_mark_changed(sku)
        sku.full_clean(exclude=RESOLVED, **DATABASE_CHECKS)
        skus.append(sku)
    SKU.objects.bulk_create(skus)
    for sku in skus:
        ctx.remember(SKU, "code", sku)
    index_schedule(SourceKind.SKU, [s.pk for s in skus])


def _upsert(model, rows: list, key: tuple[str, str], value_field: str) -> None:
    """Insert new rows and update the value of existing ones (matched on the pair of foreign keys)."""
    first, second = key
    pairs = {(getattr(r, f"{first}_id"), getattr(r, f"{second}_id")): r for r in rows}
    existing = model.objects.filter(
        **{f"{first}_id__in": {a for a, _ in pairs}, f"{second}_id__in": {b for _, b in pairs}}
    )
    changed, now = [], timezone.now()
    for current in existing:
        row = pairs.pop((getattr(current, f"{first}_id"), getattr(current, f"{second}_id")), None)
        if row is not None and getattr(current, value_field) != getattr(row, value_field):
            setattr(current, value_field, getattr(row, value_field))
            if hasattr(current, "updated_at"):
                current.updated_at = now  # what auto_now does on save()
            changed.append(current)
    for row in list(pairs.values()) + changed:
        row.full_clean(exclude=RESOLVED, **DATABASE_CHECKS)
    model.objects.bulk_create(list(pairs.values()))
    rows_update(model, changed, [value_field, "updated_at"] if model is StockLevel else [value_field])


def prices_set(ctx: Context, payloads: list[dict]) -> None:
    """Set prices, as price_set does for one (prices are not indexed: nothing to schedule)."""
    rows = [
        Price(price_list=ctx.get(PriceList, code=p["price_list"]), sku=ctx.get(SKU, code=p["sku"]),
              amount=Decimal(p["amount"]))
        for p in payloads
    ]  # fmt: skip
    _upsert(Price, rows, ("price_list", "sku"), "amount")


def stock_set(ctx: Context, payloads: list[dict]) -> None:
    """Set stock levels, as stock_set does for one (stock is not indexed: nothing to schedule)."""
    rows = [
        StockLevel(warehouse=ctx.get(Warehouse, code=p["warehouse"]), sku=ctx.get(SKU, code=p["sku"]),
                   quantity=p["quantity"])
        for p in payloads
    ]  # fmt: skip
    _upsert(StockLevel, rows, ("sku", "warehouse"), "quantity")


BULK_NEW = {"product": products_create, "sku": skus_create}  # new rows only; edits go through the services
BULK_ANY = {"price": prices_set, "stock": stock_set}  # new and changed rows
