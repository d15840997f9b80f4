"""Cross-tenant isolation through every endpoint: a property over random keys, queries and filters.

Three tenants hold look-alike catalogs (kettles, drills, returns policies, guides) whose every natural key
and brand carries a marker of its own tenant. Whatever a key asks, through the catalog API, search (with
facets), citations, the assistant and the records API, no other tenant's marker appears in the answer.
"""

import json
from dataclasses import dataclass

import hypothesis
import pytest
from hypothesis import strategies as st

from governance.models import ApiKey, Scope
from tests import factories
from tests.assistant.conftest import index_all

pytestmark = pytest.mark.django_db

MARKERS = ("zorvex", "quillon", "marrakai")  # one per tenant: in handles, codes, slugs, brands and titles


def _identifiers(marker: str) -> list[str]:
    """What only the tenant's own rows can put in a response (a query may name the bare marker)."""
    return [f"{marker}-{noun}" for noun in ("kettle", "drill", "returns", "guide")] + [
        f"{marker} kettle 3000",
        f"{marker} drill 3000",
    ]


WORDS = ["kettle", "drill", "returns", "guide", "warranty", *MARKERS, "zorvx", "quilon"]
FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "category": st.sampled_from(["kitchen", "tools", "nonexistent"]),
        "in_stock": st.sampled_from(["true", "false"]),
        "price_min": st.sampled_from(["0", "20"]),
        "price_max": st.sampled_from(["100", "1000"]),
    },
)


@dataclass
class Realm:
    marker: str
    client: object
    citations: list


def _realm(marker: str) -> Realm:
    tenant = factories.TenantFactory(slug=f"{marker}-shop")
    warehouse = factories.WarehouseFactory(tenant=tenant)
    retail = factories.PriceListFactory(tenant=tenant, code="retail", currency="EUR")
    products, skus = [], []
    for category_slug, noun in (("kitchen", "Kettle"), ("tools", "Drill")):
        category = factories.CategoryFactory(tenant=tenant, slug=category_slug, name=category_slug.title())
        product = factories.product(
            tenant, category, handle=f"{marker}-{noun.lower()}", title=f"{marker.title()} {noun} 3000",
            brand=marker.title(), description=f"The {marker.title()} {noun.lower()} with a two-year warranty.",
        )  # fmt: skip
        sku = factories.sku(product, code=f"{marker.upper()}-{noun.upper()}-1")
        from decimal import Decimal

        from catalog import services as catalog_services

        catalog_services.price_set(price_list=retail, sku=sku, amount=Decimal("49.00"))
        catalog_services.stock_set(sku=sku, warehouse=warehouse, quantity=3)
        products.append(product)
        skus.append(sku)
    policy = factories.policy(
        tenant, slug=f"{marker}-returns", title=f"{marker.title()} returns", body="Return any item within 30 days."
    )
    document = factories.document(
        tenant, slug=f"{marker}-guide", title=f"{marker.title()} kettle guide", body="Descale the kettle monthly."
    )
    index_all(products=products, skus=skus, policies=[policy], documents=[document])
    key, raw = factories.api_key(tenant)
    ApiKey.objects.filter(pk=key.pk).update(scopes=[Scope.CATALOG_READ, Scope.AI_CHAT, Scope.RECORDS_READ])
    client = factories.api_client(raw)
    assert (
        client.post("/ai/v1/chat", {"question": f"Is the {marker} kettle in stock?"}, format="json").status_code == 200
    )
    return Realm(marker, client, [])


@pytest.fixture
def realms(active_space):
    made = [_realm(marker) for marker in MARKERS]
    for realm in made:
        body = realm.client.get("/api/v1/search/", {"q": f"{realm.marker} kettle warranty", "page_size": 50}).json()
        realm.citations = [hit["citation_id"] for hit in body["results"]]
        assert realm.citations, realm.marker
    return made


def _bodies(realm: Realm, query: str, filters: dict) -> tuple[list[str], dict]:
    client = realm.client
    responses = [
        client.get("/api/v1/products/", filters),
        client.get("/api/v1/skus/"),
        client.get("/api/v1/policies/"),
        client.get("/api/v1/documents/"),
        client.get("/api/v1/search/", {"q": query, "page_size": 50, **filters}),
        client.post("/ai/v1/search", {"q": query}, format="json"),
        client.post("/ai/v1/chat", {"question": f"Tell me about the {query}"}, format="json"),
        client.get("/api/v1/records/"),
    ]
    for response in responses:
        assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    facets = responses[4].json().get("facets", {})
    return [json.dumps(response.json(), ensure_ascii=False).lower() for response in responses], facets


@hypothesis.settings(
    max_examples=12, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    who=st.integers(min_value=0, max_value=2),
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    filters=FILTERS,
)
def test_isolation__no_endpoint_shows_another_tenants_rows_citations_records_or_facets(realms, who, words, filters):
    realm = realms[who]
    others = [r for r in realms if r is not realm]

    bodies, facets = _bodies(realm, " ".join(words), filters)

    for other in others:
        for body in bodies:
            for identifier in _identifiers(other.marker):
                assert identifier not in body, (identifier, body[:500])
        assert other.marker.title() not in facets.get("brand", {})
        for citation in other.citations:
            assert realm.client.get(f"/api/v1/citations/{citation.replace('#', '%23')}").status_code == 404
