"""Storefront reads of the catalog. Tenant, entitlement and activity filtering happen inside each query.

Every selector takes the `Caller` (tenant and customer group) and never returns another tenant's rows, a
product outside the group's entitled categories, or (for storefront keys) an inactive product or SKU.
"""

import re
from collections.abc import Mapping

from django.db import connection
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from catalog.filters import ProductFilter, SkuFilter, filter_or_raise
from catalog.models import SKU, Category, CustomerGroup, Price, PriceList, Product, StockLevel, sku_code_validator
from core.tenancy import Caller

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
SKU_CODE_RE = re.compile(sku_code_validator.regex.pattern)
HANDLE_MAX, CODE_MAX = 120, 64  # the model fields' max_length: longer keys cannot exist

_CATEGORY = Category._meta.db_table
_GROUP_CATEGORIES = CustomerGroup.categories.through._meta.db_table
# Subtrees: UNION (not UNION ALL) also ends the recursion should an edit ever make a parent cycle.
_SUBTREE_SQL = f"""
    WITH RECURSIVE subtree(id) AS (
        SELECT c.id FROM {_CATEGORY} c WHERE c.tenant_id = %s AND {{roots}}
        UNION
        SELECT c.id FROM {_CATEGORY} c JOIN subtree s ON c.parent_id = s.id WHERE c.tenant_id = %s
    ) SELECT id FROM subtree
"""
_ENTITLED_ROOTS = f"c.id IN (SELECT category_id FROM {_GROUP_CATEGORIES} WHERE customergroup_id = %s)"


def is_key(value: str, pattern: re.Pattern, max_length: int) -> bool:
    """Say whether a URL key could name a row (so a NUL byte or 10 kB of junk never reaches the database)."""
    return len(value) <= max_length and bool(pattern.match(value))


# Categories -------------------------------------------------------------------------------------------------


def _category_subtree_sql(*, tenant_id: int, roots: str, root_params: list) -> RawSQL:
    return RawSQL(_SUBTREE_SQL.format(roots=roots), [tenant_id, *root_params, tenant_id])


def _entitled_categories_sql(caller: Caller) -> RawSQL | None:
    """Return the subquery of the group's categories and their descendants, or None when it sees them all."""
    if caller.customer_group_id is None or caller.all_categories:
        return None
    return _category_subtree_sql(
        tenant_id=caller.tenant_id, roots=_ENTITLED_ROOTS, root_params=[caller.customer_group_id]
    )


def category_entitled_ids(*, caller: Caller) -> set[int] | None:
    """Return the ids of the categories the caller may see (descendants included), or None for all of them."""
    subquery = _entitled_categories_sql(caller)
    return None if subquery is None else set(_ids(subquery))


def category_subtree_by_slug(*, tenant_id: int, slug: str) -> RawSQL:
    """Return the subquery of the tenant's category with this slug and its descendants."""
    return _category_subtree_sql(tenant_id=tenant_id, roots="c.slug = %s", root_params=[slug])


def category_subtree_ids_by_slug(*, tenant_id: int, slug: str) -> list[int]:
    """Return the ids of the tenant's category with this slug and of its descendants (none: no such slug)."""
    return _ids(category_subtree_by_slug(tenant_id=tenant_id, slug=slug))


def _ids(subquery: RawSQL) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(subquery.sql, subquery.params)
        return [row[0] for row in cursor.fetchall()]


# Prices and stock -------------------------------------------------------------------------------------------


def customer_group_name(*, caller: Caller) -> str:
    """Return the caller's customer group name, "retail" without one."""
    if caller.customer_group_id is None:
        return "retail"
    return CustomerGroup.objects.filter(pk=caller.customer_group_id).values_list("name", flat=True).first() or "retail"


def price_lists_for(*, caller: Caller) -> QuerySet[PriceList]:
    """Return the caller's price lists: its group's own, else the tenant's default (group-less) ones."""
    lists = PriceList.objects.filter(tenant_id=caller.tenant_id)
    group_id = caller.customer_group_id
    if group_id is None:
        return lists.filter(customer_group__isnull=True)
    own = lists.filter(customer_group_id=group_id)
    return lists.filter(Q(customer_group_id=group_id) | (Q(customer_group__isnull=True) & ~Exists(own)))


def _prices(caller: Caller) -> QuerySet[Price]:
    return (
        Price.objects.filter(price_list__in=price_lists_for(caller=caller))
        .select_related("price_list")
        .order_by("price_list__currency", "amount", "price_list__code")
    )


def _stock(caller: Caller) -> QuerySet[StockLevel]:
    return StockLevel.objects.filter(warehouse__tenant_id=caller.tenant_id)


def _with_stock(skus: QuerySet[SKU], caller: Caller) -> QuerySet[SKU]:
    """Annotate `in_stock` and `stock_total` (over the tenant's warehouses) in the same query."""
    per_sku = _stock(caller).filter(sku_id=OuterRef("pk"))
    total = per_sku.values("sku_id").annotate(total=Sum("quantity")).values("total")
    return skus.annotate(
        in_stock=Exists(per_sku.filter(quantity__gt=0)),
        stock_total=Coalesce(Subquery(total, output_field=IntegerField()), 0),
    )


def _price_between(queryset: QuerySet, caller: Caller, data: Mapping, sku_path: str) -> QuerySet:
    """Keep rows with an active SKU priced within [price_min, price_max] in the caller's price lists."""
    low, high = data.get("price_min"), data.get("price_max")
    if low is None and high is None:
        return queryset
    prices = Price.objects.filter(price_list__in=price_lists_for(caller=caller), sku__is_active=True)
    prices = prices.filter(**{sku_path: OuterRef("pk")})
    if low is not None:
        prices = prices.filter(amount__gte=low)
    if high is not None:
        prices = prices.filter(amount__lte=high)
    return queryset.filter(Exists(prices))


def sku_prices(*, caller: Caller, sku_ids) -> dict[int, list[Price]]:
    """Return {sku id: its prices in the caller's price lists} (an empty list for an unpriced SKU)."""
    prices = {sku_id: [] for sku_id in sku_ids}
    for price in _prices(caller).filter(sku_id__in=sku_ids, sku__tenant_id=caller.tenant_id):
        prices[price.sku_id].append(price)
    return prices


def stock_totals(*, caller: Caller, sku_ids) -> dict[int, int]:
    """Return {sku id: units in the tenant's warehouses} for these SKUs (0 for SKUs without stock rows)."""
    rows = _stock(caller).filter(sku_id__in=sku_ids).values("sku_id").annotate(total=Sum("quantity"))
    totals = {sku_id: 0 for sku_id in sku_ids}
    totals.update({row["sku_id"]: row["total"] for row in rows})
    return totals


# Products ---------------------------------------------------------------------------------------------------


def products_visible(*, caller: Caller, include_inactive: bool = False) -> QuerySet[Product]:
    """Return the tenant's products in the caller's entitled categories (active ones only, by default)."""
    tenant_id = caller.tenant_id
    products = Product.objects.filter(tenant_id=tenant_id, category__tenant_id=tenant_id)
    if not include_inactive:
        products = products.filter(is_active=True)
    entitled = _entitled_categories_sql(caller)
    if entitled is not None:
        products = products.filter(category_id__in=entitled)
    return products


def _skus_of_products(caller: Caller, include_inactive: bool) -> QuerySet[SKU]:
    skus = SKU.objects.filter(tenant_id=caller.tenant_id)
    if not include_inactive:
        skus = skus.filter(is_active=True)
    skus = _with_stock(skus, caller).order_by("code")
    return skus.prefetch_related(Prefetch("prices", queryset=_prices(caller), to_attr="resolved_prices"))


def _products_for_output(products: QuerySet[Product], caller: Caller, include_inactive: bool) -> QuerySet:
    in_stock = _stock(caller).filter(sku__product_id=OuterRef("pk"), sku__is_active=True, quantity__gt=0)
    return (
        products.select_related("category")
        .annotate(in_stock=Exists(in_stock))
        .prefetch_related(
            Prefetch("skus", queryset=_skus_of_products(caller, include_inactive), to_attr="visible_skus")
        )
    )


def product_list(*, caller: Caller, filters: Mapping | None = None, include_inactive: bool = False) -> QuerySet:
    """Return the caller's products filtered by `filters` (ProductFilter), ordered by title; 4 queries a page."""
    products = _products_for_output(products_visible(caller=caller, include_inactive=include_inactive), caller, False)
    filterset = ProductFilter(filters or {}, queryset=products)
    products = filter_or_raise(filterset)
    data = filterset.form.cleaned_data
    if data.get("category"):
        subtree = category_subtree_by_slug(tenant_id=caller.tenant_id, slug=data["category"])
        products = products.filter(category_id__in=subtree)
    products = _price_between(products, caller, data, "sku__product_id")
    return products.order_by("title", "handle")


def product_get(*, caller: Caller, handle: str, include_inactive: bool = False) -> Product | None:
    """Return the caller's product with this handle, with its SKUs, their prices and stock; else None."""
    if not is_key(handle, SLUG_RE, HANDLE_MAX):
        return None
    products = products_visible(caller=caller, include_inactive=include_inactive).filter(handle=handle)
    return _products_for_output(products, caller, include_inactive).first()


# SKUs -------------------------------------------------------------------------------------------------------


def skus_visible(*, caller: Caller, include_inactive: bool = False) -> QuerySet[SKU]:
    """Return the tenant's SKUs whose product the caller sees (active SKUs only, by default)."""
    products = products_visible(caller=caller, include_inactive=include_inactive)
    skus = SKU.objects.filter(tenant_id=caller.tenant_id, product__in=products)
    return skus if include_inactive else skus.filter(is_active=True)


def _skus_for_output(skus: QuerySet[SKU], caller: Caller) -> QuerySet[SKU]:
    skus = _with_stock(skus.select_related("product"), caller)
    return skus.prefetch_related(Prefetch("prices", queryset=_prices(caller), to_attr="resolved_prices"))


def sku_list(*, caller: Caller, filters: Mapping | None = None, include_inactive: bool = False) -> QuerySet:
    """Return the caller's SKUs filtered by `filters` (SkuFilter), ordered by code; 3 queries a page."""
    skus = _skus_for_output(skus_visible(caller=caller, include_inactive=include_inactive), caller)
    filterset = SkuFilter(filters or {}, queryset=skus)
    skus = filter_or_raise(filterset)
    return _price_between(skus, caller, filterset.form.cleaned_data, "sku_id").order_by("code")


def sku_get(*, caller: Caller, code: str, include_inactive: bool = False) -> SKU | None:
    """Return the caller's SKU with this code, with prices, its stock total and stock per warehouse."""
    if not is_key(code, SKU_CODE_RE, CODE_MAX):
        return None
    skus = _skus_for_output(skus_visible(caller=caller, include_inactive=include_inactive).filter(code=code), caller)
    levels = _stock(caller).select_related("warehouse").order_by("warehouse__code")
    return skus.prefetch_related(Prefetch("stock_levels", queryset=levels, to_attr="tenant_stock_levels")).first()
