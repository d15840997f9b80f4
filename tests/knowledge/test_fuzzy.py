import pytest

from knowledge.retrieval.fuzzy import chunk_search_fuzzy
from knowledge.services.indexing import sources_index
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(active_space):
    tenant = factories.TenantFactory()
    headphones = factories.product(tenant, title="Sonora Wireless Headphones", brand="Sonora")
    drill = factories.product(tenant, title="Cordless Hammer Drill 18V", brand="Boltwerk")
    sku = factories.sku(drill, code="BW-HD18-2AH")
    sources_index("product", [headphones.pk, drill.pk], drain=False)
    sources_index("sku", [sku.pk], drain=False)
    return tenant, headphones, drill, sku


@pytest.mark.parametrize("query", ["wireles hedphones", "Sonorra", "hamer dril"])
def test_chunk_search_fuzzy__misspelt_titles_and_brands_find_the_product(catalog, query):
    tenant, headphones, drill, _ = catalog
    expected = headphones if "hed" in query or "Son" in query else drill

    hits = chunk_search_fuzzy(tenant_id=tenant.pk, query=query, k=5)

    assert hits and hits[0].chunk.source_kind == "product" and hits[0].chunk.source_id == expected.pk


def test_chunk_search_fuzzy__a_partial_sku_code_finds_the_sku(catalog):
    tenant, _, _, sku = catalog

    hits = chunk_search_fuzzy(tenant_id=tenant.pk, query="HD18", k=5)

    assert any(h.chunk.source_kind == "sku" and h.chunk.source_id == sku.pk for h in hits)


def test_chunk_search_fuzzy__never_returns_another_tenants_rows(catalog):
    _, headphones, _, _ = catalog
    other = factories.TenantFactory()

    assert chunk_search_fuzzy(tenant_id=other.pk, query="wireless headphones", k=5) == []


@pytest.mark.parametrize("query", ["", " ", "%", "_", "?!", "x" * 10_000, "Беспроводные", "充電式ドリル", "a\\b%_"])
def test_chunk_search_fuzzy__odd_queries_do_not_fail(catalog, query):
    tenant = catalog[0]

    assert isinstance(chunk_search_fuzzy(tenant_id=tenant.pk, query=query, k=5), list)
