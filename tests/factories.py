"""factory_boy factories for the small data each test needs; indexable rows go through the services."""

import factory

from catalog import services as catalog_services
from catalog.models import Category, CustomerGroup, PriceList, Tenant, Warehouse


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    default_locale = "en"
    locales = factory.LazyFunction(lambda: ["en", "de"])


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"Group {n}")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"list-{n}")
    name = factory.Sequence(lambda n: f"Price list {n}")
    currency = "EUR"


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"wh-{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


_seq = iter(range(10**9))


def product(tenant=None, category=None, **fields):
    """Create a product through the service (so it is scheduled for indexing)."""
    n = next(_seq)
    tenant = tenant or TenantFactory()
    category = category or CategoryFactory(tenant=tenant)
    values = dict(handle=f"product-{n}", title=f"Product {n}", brand="Acme", description="", attributes={})
    values.update(fields)
    return catalog_services.product_create(tenant=tenant, category=category, **values)


def sku(product_=None, **fields):
    n = next(_seq)
    product_ = product_ or product()
    values = dict(code=f"SKU-{n}", attributes={})
    values.update(fields)
    return catalog_services.sku_create(product=product_, **values)
