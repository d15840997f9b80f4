import numpy as np
import pytest

from knowledge.models import Chunk, ChunkEmbedding
from knowledge.retrieval.vector import chunk_search_vector, chunk_search_vector_by
from tests import factories

pytestmark = pytest.mark.django_db

DIMS = 384
K = 10


def _unit(rng, n):
    vectors = rng.normal(size=(n, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _chunks_with_vectors(tenant, vectors, space, offset):
    chunks = Chunk.objects.bulk_create(
        Chunk(tenant=tenant, source_kind="doc", source_id=offset + i, source_key=f"d{offset + i}", source_version=1,
              anchor="p1", ordinal=0, locale="en", text=f"passage {offset + i}", token_count=2,
              content_hash=f"{offset + i:064d}")
        for i in range(len(vectors))
    )  # fmt: skip
    ChunkEmbedding.objects.bulk_create(
        ChunkEmbedding(chunk=c, space=space, embedding=v) for c, v in zip(chunks, vectors, strict=True)
    )
    return [c.pk for c in chunks]


def test_chunk_search_vector__a_filter_keeping_1_percent_still_returns_k_exact_rows(active_space):
    rng = np.random.default_rng(7)
    big, small = factories.TenantFactory(), factories.TenantFactory()
    _chunks_with_vectors(big, _unit(rng, 2000), active_space, 0)
    small_vectors = _unit(rng, 20)  # 1 % of the rows
    small_ids = np.array(_chunks_with_vectors(small, small_vectors, active_space, 10_000))
    queries = _unit(rng, 20)

    agree = 0
    for query in queries:
        hits = chunk_search_vector_by(tenant_id=small.pk, vector=query, k=K, locale=None, space=active_space)
        exact = set(small_ids[np.argsort(-(small_vectors @ query))[:K]])
        assert len(hits) == K and all(h.chunk.tenant_id == small.pk for h in hits)
        agree += {h.chunk.pk for h in hits} == exact

    assert agree / len(queries) >= 0.95


@pytest.mark.parametrize("query", ["", "   ", "?!…—", "x" * 20_000, "Беспроводные наушники", "充電式ドリル"])
def test_chunk_search_vector__odd_queries_do_not_fail(active_space, query):
    tenant = factories.TenantFactory()
    _chunks_with_vectors(tenant, _unit(np.random.default_rng(1), 3), active_space, 20_000)

    hits = chunk_search_vector(tenant_id=tenant.pk, query=query, k=5)

    assert len(hits) == (0 if not query.strip() else 3)
