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


# API keys and clients (storefront read API) ------------------------------------------------------------------


def api_key(tenant=None, customer_group=None, *, name="storefront", revoked=False):
    """Create an API key; return (ApiKey, raw key). The raw key exists only here, as in production."""
    from django.utils import timezone

    from governance.models import ApiKey, hash_key

    prefix, raw = ApiKey.generate()
    key = ApiKey.objects.create(
        tenant=tenant or (customer_group.tenant if customer_group else TenantFactory()),
        customer_group=customer_group,
        name=name,
        prefix=prefix,
        key_hash=hash_key(raw),
        revoked_at=timezone.now() if revoked else None,
    )
    return key, raw


def api_client(raw_key: str | None = None):
    """Return a DRF test client that sends `Authorization: Api-Key <raw_key>` (none when raw_key is None)."""
    from rest_framework.test import APIClient

    client = APIClient()
    if raw_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def scoped_client(tenant, scopes, *, name="shop systems"):
    """Return a client sending a new key of `tenant` that holds exactly `scopes`."""
    from governance.models import ApiKey

    key, raw = api_key(tenant, name=name)
    ApiKey.objects.filter(pk=key.pk).update(scopes=[str(scope) for scope in scopes])
    return api_client(raw)


def policy(tenant=None, **fields):
    """Create and publish a policy through the service."""
    from knowledge.services.policies import policy_create

    n = next(_seq)
    values = dict(slug=f"policy-{n}", kind="returns", locale="en", region="EU", title=f"Policy {n}", body="Body.")
    values.update(fields)
    return policy_create(tenant=tenant or TenantFactory(), **values)


def document(tenant=None, **fields):
    """Create a (markdown) document through the service."""
    from knowledge.services.documents import document_create

    n = next(_seq)
    values = dict(slug=f"doc-{n}", kind="guide", locale="en", title=f"Document {n}", body=f"Body of document {n}.")
    values.update(fields)
    return document_create(tenant=tenant or TenantFactory(), **values)


# Admin tests: a staff editor and a real PDF ------------------------------------------------------------------


def staff_editor(username="editor"):
    """A staff user (not a superuser) holding every model permission: what a content editor gets."""
    from django.contrib.auth.models import Permission, User

    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    user.user_permissions.set(Permission.objects.all())
    return user


def pdf_bytes(text: str) -> bytes:
    """Return a minimal, valid one-page PDF whose page shows `text` (ASCII, no parentheses)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
