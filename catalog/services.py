"""Every catalog write. Indexable rows note the change and schedule indexing in the same transaction."""

from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

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
    validate_json_object,
)
from core.indexable import SourceKind, index_mark_changed, index_schedule, sources_delete_announce

PRODUCT_FIELDS = (
    "category",
    "handle",
    "title",
    "description",
    "brand",
    "attributes",
    "compliance_category",
    "is_active",
)
SKU_FIELDS = ("code", "attributes", "is_active", "margin_rate", "conversion_rate")


INDEX_BOOKKEEPING = ["version", "index_changed_at", "index_error", "index_attempts", "updated_at"]


def _apply(instance, fields: dict, allowed: tuple[str, ...]) -> list[str]:
    """Set the given fields; return the names that changed (saved with update_fields, so a stale
    instance never writes back the worker's bookkeeping columns)."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"cannot set {sorted(unknown)} on {type(instance).__name__}")
    if "attributes" in fields:  # full_clean skips validators on None, so check before the database does
        try:
            validate_json_object(fields["attributes"])
        except ValidationError as exc:
            raise ValidationError({"attributes": exc.messages}) from exc
    changed = []
    for name, value in fields.items():
        try:
            current = getattr(instance, name)
        except ObjectDoesNotExist:  # an unset foreign key on a new row
            current = None
        if current != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _save_new_version(instance, changed: list[str]) -> None:
    """Validate an edit of an indexable row and save it as its next version, marked for indexing."""
    instance.full_clean()
    instance.version += 1
    index_mark_changed(instance)
    instance.save(update_fields=changed + INDEX_BOOKKEEPING)


@transaction.atomic
def tenant_create(*, slug: str, name: str, default_locale: str = "en", locales: list[str] | None = None) -> Tenant:
    tenant = Tenant(slug=slug, name=name, default_locale=default_locale, locales=locales or [default_locale])
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def category_create(*, tenant: Tenant, name: str, slug: str, parent: Category | None = None) -> Category:
    category = Category(tenant=tenant, name=name, slug=slug, parent=parent)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_update(category: Category, **fields) -> Category:
    """Rename or move a category; the products below it carry its path in their text, so re-index them."""
    changed = _apply(category, fields, ("name", "slug", "parent"))
    if changed:
        category.full_clean()
        category.save(update_fields=changed)
        products_touch(Product.objects.filter(category_id__in=category_subtree_ids(category)))
    return category


def category_subtree_ids(category: Category) -> list[int]:
    ids, frontier = [category.pk], [category.pk]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


def products_touch(products) -> None:
    """Mark products (and their SKUs) as changed by something outside their own row."""
    ids = list(products.values_list("pk", flat=True))
    now = timezone.now()
    Product.objects.filter(pk__in=ids).update(index_nonce=F("index_nonce") + 1, index_changed_at=now)
    sku_ids = list(SKU.objects.filter(product_id__in=ids).values_list("pk", flat=True))
    SKU.objects.filter(pk__in=sku_ids).update(index_nonce=F("index_nonce") + 1, index_changed_at=now)
    index_schedule(SourceKind.PRODUCT, ids)
    index_schedule(SourceKind.SKU, sku_ids)


@transaction.atomic
def product_create(*, tenant: Tenant, translations: dict[str, dict] | None = None, **fields) -> Product:
    product = Product(tenant=tenant)
    _apply(product, fields, PRODUCT_FIELDS)
    index_mark_changed(product)
    product.full_clean()
    product.save()
    for locale, values in (translations or {}).items():
        product_translation_set(product, locale=locale, **values)
    index_schedule(SourceKind.PRODUCT, [product.pk])
    return product


@transaction.atomic
def product_update(product: Product, **fields) -> Product:
    """Change a product; its SKUs' texts include its title and attributes, so they are re-indexed too."""
    changed = _apply(product, fields, PRODUCT_FIELDS)
    if not changed:
        return product
    _save_new_version(product, changed)
    products_touch(Product.objects.filter(pk=product.pk))
    return product


@transaction.atomic
def product_translation_set(product: Product, *, locale: str, title: str, description: str = "") -> ProductTranslation:
    translation = ProductTranslation.objects.filter(product=product, locale=locale).first() or ProductTranslation(
        product=product, locale=locale
    )
    translation.title, translation.description = title, description
    translation.full_clean()
    translation.save()
    products_touch(Product.objects.filter(pk=product.pk))
    return translation


@transaction.atomic
def product_delete(product: Product) -> None:
    """Delete a product and its SKUs; their chunks leave search at once (and stay readable for citations)."""
    sku_ids = list(product.skus.values_list("pk", flat=True))
    sources_delete_announce(SourceKind.SKU, sku_ids)
    sources_delete_announce(SourceKind.PRODUCT, [product.pk])
    product.delete()


@transaction.atomic
def sku_create(*, product: Product, **fields) -> SKU:
    sku = SKU(product=product, tenant_id=product.tenant_id)
    _apply(sku, fields, SKU_FIELDS)
    index_mark_changed(sku)
    sku.full_clean()
    sku.save()
    index_schedule(SourceKind.SKU, [sku.pk])
    return sku


@transaction.atomic
def sku_update(sku: SKU, **fields) -> SKU:
    changed = _apply(sku, fields, SKU_FIELDS)
    if not changed:
        return sku
    _save_new_version(sku, changed)
    index_schedule(SourceKind.SKU, [sku.pk])
    return sku


@transaction.atomic
def sku_delete(sku: SKU) -> None:
    sources_delete_announce(SourceKind.SKU, [sku.pk])  # its chunks leave search at once
    sku.delete()


@transaction.atomic
def customer_group_create(*, tenant: Tenant, code: str, name: str, all_categories: bool = True, categories=()):
    group = CustomerGroup(tenant=tenant, code=code, name=name, all_categories=all_categories)
    group.full_clean()
    group.save()
    group.categories.set(categories)
    return group


@transaction.atomic
def price_list_create(*, tenant: Tenant, code: str, name: str, currency: str, customer_group=None) -> PriceList:
    price_list = PriceList(tenant=tenant, code=code, name=name, currency=currency, customer_group=customer_group)
    price_list.full_clean()
    price_list.save()
    return price_list


@transaction.atomic
def price_set(*, price_list: PriceList, sku: SKU, amount: Decimal) -> Price:
    price = Price.objects.filter(price_list=price_list, sku=sku).first() or Price(price_list=price_list, sku=sku)
    price.amount = amount
    price.full_clean()
    price.save()
    return price


@transaction.atomic
def warehouse_create(*, tenant: Tenant, code: str, name: str, country: str = "") -> Warehouse:
    warehouse = Warehouse(tenant=tenant, code=code, name=name, country=country)
    warehouse.full_clean()
    warehouse.save()
    return warehouse


@transaction.atomic
def stock_set(*, sku: SKU, warehouse: Warehouse, quantity: int) -> StockLevel:
    level = StockLevel.objects.filter(sku=sku, warehouse=warehouse).first() or StockLevel(sku=sku, warehouse=warehouse)
    level.quantity = quantity
    level.full_clean()
    level.save()
    return level


@transaction.atomic
def product_translation_delete(product: Product, *, locale: str) -> None:
    if ProductTranslation.objects.filter(product=product, locale=locale).delete()[0]:
        products_touch(Product.objects.filter(pk=product.pk))


@transaction.atomic
def category_delete(category: Category) -> None:
    """Delete an empty category (one that still holds products or subcategories is protected)."""
    category.delete()


@transaction.atomic
def customer_group_update(group: CustomerGroup, *, categories=None, **fields) -> CustomerGroup:
    changed = _apply(group, fields, ("name", "all_categories"))
    if changed:
        group.full_clean()
        group.save(update_fields=changed)
    if categories is not None and {c.pk for c in categories} != set(group.categories.values_list("pk", flat=True)):
        group.categories.set(categories)
    return group


@transaction.atomic
def customer_group_delete(group: CustomerGroup) -> None:
    group.delete()


@transaction.atomic
def price_list_update(price_list: PriceList, **fields) -> PriceList:
    changed = _apply(price_list, fields, ("name", "currency", "customer_group"))
    if changed:
        price_list.full_clean()
        price_list.save(update_fields=changed)
    return price_list


@transaction.atomic
def price_list_delete(price_list: PriceList) -> None:
    price_list.delete()


@transaction.atomic
def price_delete(*, price_list: PriceList, sku: SKU) -> None:
    Price.objects.filter(price_list=price_list, sku=sku).delete()


@transaction.atomic
def warehouse_update(warehouse: Warehouse, **fields) -> Warehouse:
    changed = _apply(warehouse, fields, ("name", "country"))
    if changed:
        warehouse.full_clean()
        warehouse.save(update_fields=changed)
    return warehouse


@transaction.atomic
def warehouse_delete(warehouse: Warehouse) -> None:
    warehouse.delete()


@transaction.atomic
def stock_delete(*, sku: SKU, warehouse: Warehouse) -> None:
    StockLevel.objects.filter(sku=sku, warehouse=warehouse).delete()
