import pytest

from catalog import services as catalog_services
from knowledge.models import Chunk, ChunkEmbedding
from knowledge.selectors import chunk_search_vector
from knowledge.services.indexing import sources_index
from tests import factories
from tests.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _top_text(tenant, query):
    hits = chunk_search_vector(tenant_id=tenant.pk, query=query, k=3)
    return hits[0].chunk.text if hits else ""


def _indexed(instance):
    instance.refresh_from_db()
    return not instance.index_pending


def test_sources_index__is_idempotent_and_reuses_unchanged_chunks(active_space):
    product = factories.product(title="Trail running shoe", description="Grippy outsole for wet rock.")
    sources_index("product", [product.pk])
    first = set(Chunk.objects.filter(source_id=product.pk, retired_at__isnull=True).values_list("pk", flat=True))

    report = sources_index("product", [product.pk])

    assert report.embedded == 0
    assert set(Chunk.objects.filter(source_id=product.pk, retired_at__isnull=True).values_list("pk", flat=True)) == first
    assert ChunkEmbedding.objects.filter(chunk_id__in=first).count() == len(first)


def test_product_update__worker_makes_new_text_findable_and_old_text_gone(active_space, live_worker):
    product = factories.product(title="Espresso machine", description="Pumps at 15 bar with a steam wand.")
    wait_until(lambda: _indexed(product), 30, message="first indexing")

    catalog_services.product_update(product, description="Cold brew tower that drips over twelve hours.")
    wait_until(lambda: _indexed(product), 30, message="re-indexing after the edit")

    assert "twelve hours" in _top_text(product.tenant, "slow drip cold brew")
    live = Chunk.objects.filter(source_kind="product", source_id=product.pk, retired_at__isnull=True)
    assert not any("15 bar" in c.text for c in live)
