"""Filters inside each leg: a selective filter still fills k results, and they are the right ones."""

from decimal import Decimal

import numpy as np
import pytest

from core.tenancy import Caller
from knowledge.models import Chunk, ChunkEmbedding
from knowledge.retrieval import vector
from knowledge.retrieval import visibility as visibility_module
from knowledge.retrieval.fuzzy import chunk_search_fuzzy_ids
from knowledge.retrieval.keyword import chunk_search_keyword_ids
from knowledge.retrieval.request import SearchFilters
from knowledge.retrieval.search import candidate_rows
from knowledge.retrieval.vector import chunk_search_vector_by
from knowledge.retrieval.visibility import visibility_for
from knowledge.services.indexing import sources_index
from knowledge.services.postings import postings_add
from tests import factories

pytestmark = pytest.mark.django_db

DIMS, K = 384, 10


def _unit(rng, n):
    vectors = rng.normal(size=(n, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _product_chunks(product, vectors, space, offset, text="passage"):
    chunks = Chunk.objects.bulk_create(
        Chunk(tenant_id=product.tenant_id, source_kind="doc", source_id=offset + i, source_key=f"d{offset + i}",
              source_version=1, anchor="p1", ordinal=0, locale="en", text=f"{text} {offset + i}", token_count=2,
              content_hash=f"{offset + i:064d}", product=product, category_id=product.category_id)
        for i in range(len(vectors))
    )  # fmt: skip
    ChunkEmbedding.objects.bulk_create(
        ChunkEmbedding(chunk=c, space=space, embedding=v) for c, v in zip(chunks, vectors, strict=True)
    )
    return chunks


def _rare_category(rng, space, common_rows: int):
    """A tenant with `common_rows` chunks in category "common" and 20 in "rare"; the caller filters on "rare"."""
    tenant = factories.TenantFactory()
    common = factories.product(tenant, factories.CategoryFactory(tenant=tenant, slug="common"))
    rare = factories.product(tenant, factories.CategoryFactory(tenant=tenant, slug="rare"))
    _product_chunks(common, _unit(rng, common_rows), space, 0)
    rare_vectors = _unit(rng, 20)
    rare_ids = np.array([c.pk for c in _product_chunks(rare, rare_vectors, space, 10_000)])
    return tenant, rare, rare_ids, rare_vectors, visibility_for(Caller.of(tenant), SearchFilters(category="rare"))


@pytest.mark.parametrize("exact_max", [visibility_module.EXACT_CATEGORY_MAX_PRODUCTS, 0], ids=["exact", "hnsw"])
def test_vector_leg__a_category_filter_keeping_1_percent_returns_k_exact_rows(active_space, monkeypatch, exact_max):
    monkeypatch.setattr(visibility_module, "EXACT_CATEGORY_MAX_PRODUCTS", exact_max)  # 0: the iterative HNSW scan
    rng = np.random.default_rng(11)
    tenant, rare, rare_ids, rare_vectors, visibility = _rare_category(rng, active_space, common_rows=2000)

    agree = 0
    for query in _unit(rng, 20):
        hits = chunk_search_vector_by(
            tenant_id=tenant.pk, vector=query, k=K, locale=None, space=active_space, visibility=visibility
        )
        exact = set(rare_ids[np.argsort(-(rare_vectors @ query))[:K]])
        assert len(hits) == K and all(h.chunk.product_id == rare.pk for h in hits)
        agree += {h.chunk.pk for h in hits} == exact

    assert agree / 20 >= 0.95


def test_vector_leg__the_exact_category_path_is_exact_even_when_the_planner_prefers_the_hnsw_index(active_space):
    from django.db import connection, transaction

    rng = np.random.default_rng(3)
    tenant, _, rare_ids, rare_vectors, visibility = _rare_category(rng, active_space, common_rows=500)
    query = _unit(rng, 1)[0]

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # an index-ordered scan now looks cheaper than any sort
        hits = chunk_search_vector_by(
            tenant_id=tenant.pk, vector=query, k=K, locale=None, space=active_space, visibility=visibility
        )

    assert [h.chunk.pk for h in hits] == list(rare_ids[np.argsort(-(rare_vectors @ query))[:K]])


@pytest.mark.parametrize("preselect", [vector.EXACT_PRESELECT, 1], ids=["bounded-sort", "then-all-sorted"])
def test_vector_leg__a_small_category_is_searched_exactly_with_stock_checked_nearest_first(
    active_space, monkeypatch, preselect
):
    from catalog.services import stock_set

    monkeypatch.setattr(vector, "EXACT_PRESELECT", preselect)  # 1: the nearest k hold out-of-stock chunks

    rng = np.random.default_rng(5)
    tenant = factories.TenantFactory()
    category = factories.CategoryFactory(tenant=tenant, slug="lamps")
    warehouse = factories.WarehouseFactory(tenant=tenant)
    products, vectors = [], _unit(rng, 30)
    for i in range(30):
        product = factories.product(tenant, category)
        stock_set(sku=factories.sku(product), warehouse=warehouse, quantity=i % 3)  # a third out of stock
        products.append(product)
    chunks = [_product_chunks(p, vectors[i : i + 1], active_space, 100 * i)[0] for i, p in enumerate(products)]
    visibility = visibility_for(Caller.of(tenant), SearchFilters(category="lamps", in_stock=True))
    query = _unit(rng, 1)[0]

    hits = chunk_search_vector_by(
        tenant_id=tenant.pk, vector=query, k=K, locale=None, space=active_space, visibility=visibility
    )

    stocked = [i for i in np.argsort(-(vectors @ query)) if i % 3]
    assert [h.chunk.pk for h in hits] == [chunks[i].pk for i in stocked[:K]]


def test_keyword_leg__a_filter_returns_matches_that_rank_below_the_unfiltered_top_k(active_space):
    tenant = factories.TenantFactory()
    common = factories.product(tenant, factories.CategoryFactory(tenant=tenant, slug="common"))
    rare = factories.product(tenant, factories.CategoryFactory(tenant=tenant, slug="rare"))
    strong = _product_chunks(common, np.zeros((30, DIMS)), active_space, 0, "anvil anvil anvil")
    weak = _product_chunks(rare, np.zeros((3, DIMS)), active_space, 1_000, "anvil with a long tail of other words")
    postings_add([c.pk for c in strong + weak])
    visibility = visibility_for(Caller.of(tenant), SearchFilters(category="rare"))

    unfiltered = chunk_search_keyword_ids(tenant_id=tenant.pk, query="anvil", k=K)
    filtered = chunk_search_keyword_ids(tenant_id=tenant.pk, query="anvil", k=K, visibility=visibility)

    assert {cid for cid, _ in unfiltered} <= {c.pk for c in strong}
    assert {cid for cid, _ in filtered} == {c.pk for c in weak}
    scores = dict(chunk_search_keyword_ids(tenant_id=tenant.pk, query="anvil", k=100))
    assert all(scores[cid] == pytest.approx(score) for cid, score in filtered)  # filters never change BM25


def test_fuzzy_leg__a_filter_applies_before_the_limit(active_space):
    tenant = factories.TenantFactory()
    tools = factories.CategoryFactory(tenant=tenant, slug="tools")
    garden = factories.CategoryFactory(tenant=tenant, slug="garden")
    drills = [factories.product(tenant, tools, title=f"Hammer Drill {i}") for i in range(8)]
    garden_drill = factories.product(tenant, garden, title="Hammer Drill for soil augers")
    sources_index("product", [p.pk for p in [*drills, garden_drill]], drain=False)
    visibility = visibility_for(Caller.of(tenant), SearchFilters(category="garden"))

    hits = chunk_search_fuzzy_ids(tenant_id=tenant.pk, query="hamer dril", k=3, visibility=visibility)

    sources = set(Chunk.objects.filter(pk__in=[cid for cid, _ in hits]).values_list("source_id", flat=True))
    assert sources == {garden_drill.pk}


@pytest.mark.parametrize("query", ["", "   ", "?!…—", "x" * 5_000, "Беспроводные наушники", "充電式ドリル"])
def test_legs__odd_queries_under_filters_do_not_fail(active_space, query):
    tenant = factories.TenantFactory()
    group = factories.CustomerGroupFactory(tenant=tenant, all_categories=False)
    visibility = visibility_for(Caller.of(tenant, group), SearchFilters(in_stock=True, price_min=1), locale="en")
    vector = np.ones(DIMS, dtype=np.float32) / np.sqrt(DIMS)

    assert chunk_search_keyword_ids(tenant_id=tenant.pk, query=query, k=5, visibility=visibility) == []
    assert chunk_search_fuzzy_ids(tenant_id=tenant.pk, query=query, k=5, visibility=visibility) == []
    hits = chunk_search_vector_by(
        tenant_id=tenant.pk, vector=vector, k=5, locale=None, space=active_space, visibility=visibility
    )
    assert hits == []


@pytest.fixture
def two_skus(active_space):
    """A product whose SKU A is stocked at 50 and SKU B out of stock at 150, and a retired SKU C stocked at 150;
    its chunks: the product's, and each SKU's."""
    from catalog.services import price_set, sku_update, stock_set

    tenant = factories.TenantFactory()
    retail, warehouse = factories.PriceListFactory(tenant=tenant), factories.WarehouseFactory(tenant=tenant)
    product = factories.product(tenant, title="Sonora Wireless Headphones")
    skus = {}
    for name, quantity, amount in (("A", 3, 50), ("B", 0, 150), ("C", 5, 150)):
        skus[name] = factories.sku(product, code=f"SON-{name}")
        stock_set(sku=skus[name], warehouse=warehouse, quantity=quantity)
        price_set(price_list=retail, sku=skus[name], amount=Decimal(amount))
    sources_index("product", [product.pk], drain=False)
    sources_index("sku", [s.pk for s in skus.values()], drain=False)
    sku_update(skus["C"], is_active=False)
    name_of = {("product", product.pk): "product", **{("sku", sku.pk): name for name, sku in skus.items()}}
    by_source = {}
    for chunk in Chunk.objects.filter(tenant=tenant, retired_at__isnull=True, is_leaf=True):
        by_source.setdefault(name_of[chunk.source_kind, chunk.source_id], set()).add(chunk.pk)
    return tenant, by_source


@pytest.mark.parametrize(
    ("filters", "visible"),
    [
        ({"in_stock": True}, {"product", "A"}),
        ({"in_stock": False}, {"B"}),  # the product has a stocked SKU; C is retired, whatever its stock
        ({"price_min": Decimal(100), "price_max": Decimal(200)}, {"product", "B"}),
        ({"in_stock": True, "price_min": Decimal(100)}, {"product"}),  # A is stocked, B priced: the product is both
        ({}, {"product", "A", "B"}),
    ],
)
def test_visibility__a_sku_chunk_follows_its_own_sku_and_a_product_chunk_any_active_sku(two_skus, filters, visible):
    tenant, by_source = two_skus
    visibility = visibility_for(Caller.of(tenant), SearchFilters(**filters))
    everything = set().union(*by_source.values())

    rows = candidate_rows(visibility, everything)

    assert {row["id"] for row in rows} == set().union(*(by_source[name] for name in visible))
