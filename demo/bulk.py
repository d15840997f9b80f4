"""Insert a tenant's generated products, SKUs, translations, prices and stock with bulk_create.

Thousands of rows through the per-row services would take minutes; bulk inserts take seconds. The
rows are marked changed (as the services do) and their indexing is scheduled for after the commit.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from catalog.models import SKU, Category, Price, PriceList, Product, ProductTranslation, StockLevel, Tenant, Warehouse
from core.indexable import SourceKind, index_mark_changed, index_schedule
from demo.products import CENT, ProductDraft
from demo.tenants import PriceListSpec

BULK_BATCH = 500  # rows per INSERT: large enough to amortise round trips, small enough for tidy progress steps

Progress = Callable[..., Iterable]  # tqdm's signature: progress(iterable, desc=..., total=..., unit=...)


def no_progress(iterable, **kwargs):
    return iterable


@dataclass
class CatalogRows:
    products: dict[str, Product]  # by handle
    skus: dict[str, SKU]  # by code


def _batches(items: list, size: int = BULK_BATCH) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _product(tenant: Tenant, category: Category, draft: ProductDraft) -> Product:
    product = Product(
        tenant=tenant,
        category=category,
        handle=draft.handle,
        title=draft.title,
        description=draft.description,
        brand=draft.brand,
        attributes=draft.attributes,
        compliance_category=draft.compliance_category,
    )
    index_mark_changed(product)
    return product


def _sku(product: Product, draft) -> SKU:
    sku = SKU(
        tenant_id=product.tenant_id,
        product=product,
        code=draft.code,
        attributes=draft.attributes,
        margin_rate=draft.margin_rate,
        conversion_rate=draft.conversion_rate,
    )
    index_mark_changed(sku)
    return sku


def catalog_insert(
    tenant: Tenant, categories: dict[str, Category], drafts: list[ProductDraft], progress: Progress = no_progress
) -> CatalogRows:
    """Insert products with their German translations and SKUs; schedule their indexing on commit."""
    rows = CatalogRows(products={}, skus={})
    batches = _batches(drafts)
    for batch in progress(batches, desc=f"{tenant.slug}: products", total=len(batches), unit="batch"):
        products = Product.objects.bulk_create([_product(tenant, categories[d.category], d) for d in batch])
        ProductTranslation.objects.bulk_create(
            ProductTranslation(product=p, locale="de", title=d.title_de, description=d.description_de)
            for p, d in zip(products, batch, strict=True)
        )
        skus = SKU.objects.bulk_create([_sku(p, s) for p, d in zip(products, batch, strict=True) for s in d.skus])
        rows.products.update((p.handle, p) for p in products)
        rows.skus.update((s.code, s) for s in skus)
    index_schedule(SourceKind.PRODUCT, [p.pk for p in rows.products.values()])
    index_schedule(SourceKind.SKU, [s.pk for s in rows.skus.values()])
    return rows


def list_price(retail: Decimal, spec: PriceListSpec) -> Decimal:
    """Return a SKU's price on a list: the retail EUR price times the list's discount and currency factor."""
    return retail if spec.factor == 1 else (retail * spec.factor).quantize(CENT, rounding=ROUND_HALF_UP)


def prices_insert(
    price_lists: list[tuple[PriceList, PriceListSpec]],
    drafts: list[ProductDraft],
    rows: CatalogRows,
    progress: Progress = no_progress,
) -> int:
    """Price every SKU on every list of its tenant; return the number of prices."""
    prices = [
        Price(price_list=price_list, sku=rows.skus[sku.code], amount=list_price(sku.price, spec))
        for price_list, spec in price_lists
        for draft in drafts
        for sku in draft.skus
    ]
    for batch in progress(_batches(prices), desc="prices", unit="batch"):
        Price.objects.bulk_create(batch)
    return len(prices)


def stock_insert(
    warehouses: list[Warehouse], drafts: list[ProductDraft], rows: CatalogRows, progress: Progress = no_progress
) -> int:
    """Write a stock row per SKU and warehouse (zero where the generator left it out of stock)."""
    levels = [
        StockLevel(sku=rows.skus[sku.code], warehouse=warehouse, quantity=quantity)
        for draft in drafts
        for sku in draft.skus
        for warehouse, quantity in zip(warehouses, sku.stock, strict=True)
    ]
    for batch in progress(_batches(levels), desc="stock", unit="batch"):
        StockLevel.objects.bulk_create(batch)
    return len(levels)
