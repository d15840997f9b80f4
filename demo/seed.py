"""Seed the demo: two tenants with catalog, prices, stock, policies, documents, reviews, API keys and an admin.

Everything happens in one transaction: an interrupted seed leaves nothing behind, so the next run
starts again instead of finding half a demo and skipping it.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog import services as catalog_services
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
from demo import bulk, content
from demo.products import products_generate
from demo.tenants import TENANTS, TenantSpec
from governance.models import ApiKey, hash_key
from knowledge.models import Document, DocumentFormat, DocumentKind, Policy, PolicyVersion

DEMO_SLUGS = tuple(spec.slug for spec in TENANTS)
ADMIN_USERNAME = ADMIN_PASSWORD = "admin"  # demo only: printed by the command and documented in the README


@dataclass
class SeedResult:
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    api_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant slug, key name, raw key)
    admin_created: bool = False


def demo_exists() -> bool:
    return Tenant.objects.filter(slug__in=DEMO_SLUGS).exists()


def demo_generate(spec: TenantSpec, scale: float):
    """Return the tenant's generated products (no database): what the seed writes, for tests to compare."""
    return products_generate(
        tenant_slug=spec.slug,
        prefix=spec.prefix,
        categories=spec.categories,
        scale=scale,
        warehouses=len(spec.warehouses),
    )


@transaction.atomic
def demo_seed(*, scale: float = 1.0, progress: bulk.Progress = bulk.no_progress) -> SeedResult:
    """Create the demo data unless a demo tenant exists already (then change nothing)."""
    if demo_exists():
        return SeedResult(created=False, counts=demo_counts())
    admin, admin_created = _admin_ensure()
    result = SeedResult(created=True, admin_created=admin_created)
    for spec in TENANTS:
        tenant, groups = _tenant_seed(spec, scale, admin, progress)
        result.api_keys += _api_keys_create(tenant, spec, groups)
    result.counts = demo_counts()
    return result


def _tenant_seed(spec: TenantSpec, scale: float, admin, progress: bulk.Progress):
    """Create one tenant and everything in it; return the tenant and its customer groups by code."""
    tenant = catalog_services.tenant_create(
        slug=spec.slug, name=spec.name, default_locale=spec.default_locale, locales=list(spec.locales)
    )
    categories = _categories_create(tenant, spec)
    groups = _groups_create(tenant, spec, categories)
    price_lists = [
        (
            catalog_services.price_list_create(
                tenant=tenant, code=p.code, name=p.name, currency=p.currency, customer_group=groups.get(p.group)
            ),
            p,
        )
        for p in spec.price_lists
    ]
    warehouses = [
        catalog_services.warehouse_create(tenant=tenant, code=w.code, name=w.name, country=w.country)
        for w in spec.warehouses
    ]
    drafts = demo_generate(spec, scale)
    rows = bulk.catalog_insert(tenant, categories, drafts, progress)
    bulk.prices_insert(price_lists, drafts, rows, progress)
    bulk.stock_insert(warehouses, drafts, rows, progress)
    content.policies_create(tenant, spec, actor=admin)
    content.documents_create(tenant, spec, drafts, rows.products, actor=admin, progress=progress)
    content.reviews_create(tenant, spec, drafts, rows.products, progress=progress)
    return tenant, groups


def _categories_create(tenant: Tenant, spec: TenantSpec) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for c in spec.categories:  # parents come before their children in the vocabulary
        parent = categories[c.parent] if c.parent else None
        categories[c.slug] = catalog_services.category_create(tenant=tenant, name=c.name, slug=c.slug, parent=parent)
    return categories


def _groups_create(tenant: Tenant, spec: TenantSpec, categories: dict[str, Category]) -> dict[str, CustomerGroup]:
    return {
        g.code: catalog_services.customer_group_create(
            tenant=tenant,
            code=g.code,
            name=g.name,
            all_categories=not g.categories,
            categories=[categories[slug] for slug in g.categories],
        )
        for g in spec.groups
    }


def _api_keys_create(tenant: Tenant, spec: TenantSpec, groups: dict[str, CustomerGroup]) -> list[tuple[str, str, str]]:
    keys = []
    for k in spec.api_keys:
        raw = k.raw_key(spec.slug)
        group = groups[k.group] if k.group else None
        ApiKey.objects.create(tenant=tenant, customer_group=group, name=k.name, prefix=k.prefix, key_hash=hash_key(raw))
        keys.append((spec.slug, k.name, raw))
    return keys


def _admin_ensure():
    """Return (the user named admin, whether it was created now); an existing admin is left as it is."""
    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is not None:
        return user, False
    return User.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD), True


def demo_counts() -> dict[str, int]:
    """Count the demo tenants' rows, for the command's summary and for tests."""
    tenants = Tenant.objects.filter(slug__in=DEMO_SLUGS)
    documents = Document.objects.filter(tenant__in=tenants)
    stock = StockLevel.objects.filter(warehouse__tenant__in=tenants)
    return {
        "tenants": tenants.count(),
        "categories": Category.objects.filter(tenant__in=tenants).count(),
        "customer groups": CustomerGroup.objects.filter(tenant__in=tenants).count(),
        "price lists": PriceList.objects.filter(tenant__in=tenants).count(),
        "products": Product.objects.filter(tenant__in=tenants).count(),
        "translations": ProductTranslation.objects.filter(product__tenant__in=tenants).count(),
        "SKUs": SKU.objects.filter(tenant__in=tenants).count(),
        "prices": Price.objects.filter(price_list__tenant__in=tenants).count(),
        "warehouses": Warehouse.objects.filter(tenant__in=tenants).count(),
        "stock levels": stock.count(),
        "stock levels at zero": stock.filter(quantity=0).count(),
        "policies": Policy.objects.filter(tenant__in=tenants).count(),
        "policy versions": PolicyVersion.objects.filter(policy__tenant__in=tenants).count(),
        "manuals, warranties and guides": documents.exclude(kind=DocumentKind.REVIEW).count(),
        "PDF documents": documents.filter(format=DocumentFormat.PDF).count(),
        "reviews": documents.filter(kind=DocumentKind.REVIEW).count(),
        "API keys": ApiKey.objects.filter(tenant__in=tenants).count(),
    }
