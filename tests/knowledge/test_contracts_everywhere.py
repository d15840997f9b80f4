"""Every way in holds a product to its category's attribute contract: the write API and change events too."""

import json

import pytest

from catalog.contracts import FieldSpec, attribute_contract_publish
from catalog.models import Category, Product
from core.scopes import Scope
from knowledge.ingestion.event_sources import event_source_create
from knowledge.ingestion.signing import signed_headers
from tests import factories

pytestmark = pytest.mark.django_db

POWER = FieldSpec("power_w", "number", unit="W", required=True)
COLOUR = FieldSpec("colour", "choice", allowed_values=("red", "blue"))


@pytest.fixture
def shop():
    tenant = factories.TenantFactory(slug="contract-ways")
    tools = factories.CategoryFactory(tenant=tenant, slug="tools", name="Tools")
    factories.CategoryFactory(tenant=tenant, slug="drills", name="Drills", parent=tools)
    factories.product(tenant, tools, handle="saw", title="Saw", attributes={"power_w": 900})
    attribute_contract_publish(category=Category.objects.get(pk=tools.pk), fields=[POWER, COLOUR], note="v1")
    return tenant


def _stored(tenant) -> list:
    return list(Product.objects.filter(tenant=tenant).order_by("handle").values_list("handle", "attributes", "version"))


def _event(tenant, event_id: str, data: dict) -> tuple[bytes, dict]:
    issued = event_source_create(tenant=tenant, name=f"{tenant.slug}-{event_id}")
    body = json.dumps({"id": event_id, "type": "product.upsert", "version": 1, "data": data}).encode()
    return issued.source.name, body, signed_headers(issued.secret, body)


def test_write_api__a_product_breaking_its_contract_is_a_400_naming_the_attribute(shop):
    writer = factories.scoped_client(shop, [Scope.CATALOG_READ, Scope.CATALOG_WRITE])
    before = _stored(shop)

    missing = writer.post("/api/v1/products/", {"handle": "drill", "category": "tools/drills", "title": "Drill",
                                                "attributes": {"colour": "red"}}, format="json")  # fmt: skip
    wrong = writer.patch("/api/v1/products/saw/", {"attributes": {"power_w": "strong"}}, format="json")
    outside = writer.patch("/api/v1/products/saw/", {"attributes": {"power_w": 900, "colour": "green"}}, format="json")

    assert (missing.status_code, wrong.status_code, outside.status_code) == (400, 400, 400)
    assert "attributes.power_w" in missing.json() and "attributes.power_w" in wrong.json()
    assert "attributes.colour" in outside.json()
    assert _stored(shop) == before


def test_write_api__a_product_keeping_its_contract_is_written_with_its_numbers_coerced(shop):
    writer = factories.scoped_client(shop, [Scope.CATALOG_READ, Scope.CATALOG_WRITE])

    created = writer.post("/api/v1/products/", {"handle": "drill", "category": "tools/drills", "title": "Drill",
                                                "attributes": {"power_w": "650"}}, format="json")  # fmt: skip

    assert created.status_code == 201, created.json()
    assert Product.objects.get(tenant=shop, handle="drill").attributes == {"power_w": 650}


def test_change_event__a_product_breaking_its_contract_is_a_422_naming_the_attribute(client, shop):
    before = _stored(shop)
    source, body, headers = _event(shop, "c-1", {"handle": "saw", "category": "tools", "title": "Saw",
                                                 "attributes": {"colour": "red"}})  # fmt: skip

    response = client.post(f"/api/v1/events/{source}/", data=body, content_type="application/json", headers=headers)

    assert response.status_code == 422
    assert "data.attributes.power_w" in response.json()
    assert _stored(shop) == before
