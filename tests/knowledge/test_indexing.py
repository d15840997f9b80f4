import time

import pytest
from django.db import transaction

from catalog import services as catalog_services
from core.tenancy import Caller
from knowledge.models import Chunk, ChunkEmbedding, EmbeddingSpace
from knowledge.retrieval.keyword import chunk_search_keyword_ids
from knowledge.retrieval.request import SearchFilters
from knowledge.retrieval.vector import chunk_search_vector
from knowledge.retrieval.visibility import visibility_for
from knowledge.services.documents import document_create, document_update
from knowledge.services.indexing import sources_index
from knowledge.services.spaces import active_space as active_space_now
from knowledge.services.spaces import embedding_space_create
from tests import factories
from tests.worker import purge_queue, wait_until

# Tests that call the indexer directly run inside a test transaction, so no on-commit task reaches a
# worker left running by an earlier test; tests of the worker commit for real.
in_transaction = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)


def _top_text(tenant, query):
    hits = chunk_search_vector(tenant_id=tenant.pk, query=query, k=3)
    return hits[0].chunk.text if hits else ""


def _indexed(instance):
    instance.refresh_from_db()
    return not instance.index_pending


@in_transaction
def test_sources_index__is_idempotent_and_reuses_unchanged_chunks(active_space):
    product = factories.product(title="Trail running shoe", description="Grippy outsole for wet rock.")
    sources_index("product", [product.pk])
    first = set(Chunk.objects.filter(source_id=product.pk, retired_at__isnull=True).values_list("pk", flat=True))

    report = sources_index("product", [product.pk])

    assert report.embedded == 0
    assert (
        set(Chunk.objects.filter(source_id=product.pk, retired_at__isnull=True).values_list("pk", flat=True)) == first
    )
    assert ChunkEmbedding.objects.filter(chunk_id__in=first).count() == len(first)


@committed
def test_product_update__worker_makes_new_text_findable_and_old_text_gone(active_space, live_worker):
    product = factories.product(title="Espresso machine", description="Pumps at 15 bar with a steam wand.")
    wait_until(lambda: _indexed(product), 30, message="first indexing")

    catalog_services.product_update(product, description="Cold brew tower that drips over twelve hours.")
    wait_until(lambda: _indexed(product), 30, message="re-indexing after the edit")

    assert "twelve hours" in _top_text(product.tenant, "slow drip cold brew")
    live = Chunk.objects.filter(source_kind="product", source_id=product.pk, retired_at__isnull=True)
    assert not any("15 bar" in c.text for c in live)


def _live_chunks(kind, pk):
    return Chunk.objects.filter(source_kind=kind, source_id=pk, retired_at__isnull=True)


@in_transaction
def test_sources_index__re_embeds_only_the_changed_passage(active_space):
    paragraphs = [f"## Part {i}\n\n" + " ".join([f"Step {i} explains the {w} setting."] * 30) for i, w in
                  enumerate(["torque", "speed", "clutch", "battery"])]  # fmt: skip
    document = document_create(tenant=factories.TenantFactory(), slug="manual", kind="manual", title="Drill manual",
                               body="\n\n".join(paragraphs))  # fmt: skip
    sources_index("doc", [document.pk])
    before = {c.anchor: c.pk for c in _live_chunks("doc", document.pk) if c.is_leaf}
    assert len(before) > 2

    paragraphs[3] = "## Part 3\n\nCharge the battery for two hours before first use."
    document_update(document, body="\n\n".join(paragraphs))
    report = sources_index("doc", [document.pk])

    after = {c.anchor: c.pk for c in _live_chunks("doc", document.pk) if c.is_leaf}
    assert report.embedded == 1
    assert sum(1 for anchor, pk in after.items() if before.get(anchor) == pk) == len(after) - 1


@in_transaction
def test_sku_delete__removes_its_chunks_from_search_inside_the_deleting_transaction(active_space):
    product = factories.product(title="Enamel dutch oven", description="Holds 5 litres.")
    kept, deleted = factories.sku(product, code="OVEN-24"), factories.sku(product, code="OVEN-28")
    sources_index("sku", [kept.pk, deleted.pk])
    deleted_pk = deleted.pk

    with transaction.atomic():  # the catalog announces the delete; knowledge retires the chunks right there
        catalog_services.sku_delete(deleted)
        retired_before_commit = not _live_chunks("sku", deleted_pk).exists()

    assert retired_before_commit
    assert _live_chunks("sku", kept.pk).exists()  # only the deleted SKU's chunks leave search
    assert Chunk.objects.filter(source_kind="sku", source_id=deleted_pk).exists()  # citations still resolve
    codes = {hit.chunk.source_key for hit in chunk_search_vector(tenant_id=product.tenant_id, query="OVEN-28", k=5)}
    assert "OVEN-28" not in codes and "OVEN-24" in codes


@in_transaction
def test_product_delete__removes_its_chunks_from_search(active_space):
    product = factories.product(title="Cast iron skillet", description="Pre-seasoned, 26 cm.")
    sku = factories.sku(product, code="SKILLET-26")
    sources_index("product", [product.pk])
    sources_index("sku", [sku.pk])

    product_pk, sku_pk = product.pk, sku.pk
    catalog_services.product_delete(product)

    assert not _live_chunks("product", product_pk).exists() and not _live_chunks("sku", sku_pk).exists()
    assert Chunk.objects.filter(source_id=product_pk, source_kind="product").exists()  # citations still resolve
    assert not chunk_search_vector(tenant_id=product.tenant_id, query="cast iron skillet", k=5)


@in_transaction
def test_sources_index__failure_marks_the_row_failed_and_a_retry_recovers(active_space):
    product = factories.product(title="Garden hose", description="25 m, kink-free.")
    broken = embedding_space_create(name="broken-model", model_path="/nonexistent/model", dimensions=384)

    with pytest.raises(OSError):
        sources_index("product", [product.pk])

    product.refresh_from_db()
    assert product.index_status()[0] == "failed" and "/nonexistent/model" in product.index_error
    assert product.title == "Garden hose"  # the edit is kept
    EmbeddingSpace.objects.filter(pk=broken.pk).update(model_path="")
    sources_index("product", [product.pk])
    product.refresh_from_db()
    assert product.index_status() == ("fresh", "")


@committed
def test_index_sweep__indexes_edits_saved_while_no_worker_ran(active_space, live_worker):
    worker = live_worker
    worker.stop()
    products = [factories.product(title=f"Camping lantern model {i}", description="LED, 300 lumen.") for i in range(5)]
    purge_queue()  # the on-commit messages are lost: only the sweep can find these rows

    worker.start()

    wait_until(lambda: all(_indexed(p) for p in products), 60, message="the sweep to index every edit")
    assert all([c.anchor for c in _live_chunks("product", p.pk)] == ["head", "p1"] for p in products)


@committed
def test_worker_killed_mid_batch__every_edit_indexed_after_restart_without_duplicates(active_space, live_worker):
    products = [factories.product(title=f"Desk lamp {i}", description="Warm white.") for i in range(40)]
    wait_until(lambda: all(_indexed(p) for p in products), 90, message="initial indexing")
    for i, product in enumerate(products):
        catalog_services.product_update(product, description=f"Edited shade number {i}, brushed brass.")
    time.sleep(0.3)  # let the worker start on the batch
    live_worker.kill()
    live_worker.start()

    wait_until(lambda: all(_indexed(p) for p in products), 120, message="every edit indexed after the restart")
    for i, product in enumerate(products):
        texts = {c.anchor: c.text for c in _live_chunks("product", product.pk)}
        assert list(texts) == ["head", "p1"] and f"shade number {i}," in texts["p1"]
    assert ChunkEmbedding.objects.filter(chunk__source_kind="product").values("chunk").distinct().count() == (
        ChunkEmbedding.objects.filter(chunk__source_kind="product").count()
    )


@committed
def test_embedding_space_switch__old_space_serves_until_the_new_one_is_complete(active_space, live_worker):
    worker = live_worker
    worker.stop()
    tenant = factories.TenantFactory()
    products = [factories.product(tenant, title=f"Kettle {i}", description="1.7 litre, steel.") for i in range(3)]
    sources_index("product", [p.pk for p in products])

    new = embedding_space_create(name="all-MiniLM-L6-v2", version=2)

    assert active_space_now() == active_space and new.state == "building"
    hits = chunk_search_vector(tenant_id=tenant.pk, query="stainless kettle", k=3)
    assert len(hits) == 3
    worker.start()
    wait_until(lambda: active_space_now() == new, 60, message="the new space to be promoted")
    assert len(chunk_search_vector(tenant_id=tenant.pk, query="stainless kettle", k=3)) == 3
    assert EmbeddingSpace.objects.get(pk=active_space.pk).state == "retired"
    wait_until(lambda: not ChunkEmbedding.objects.filter(space=active_space).exists(), 30, message="old vectors purged")


@in_transaction
def test_sources_index__a_document_moved_to_another_product_is_filed_under_it(active_space):
    tenant = factories.TenantFactory()
    drills = factories.CategoryFactory(tenant=tenant, slug="drills")
    kettles = factories.CategoryFactory(tenant=tenant, slug="kettles")
    drill, kettle = factories.product(tenant, drills), factories.product(tenant, kettles)
    manual = factories.document(tenant, product=drill, body="Charge the battery fully before first use.")
    sources_index("doc", [manual.pk])
    before = set(_live_chunks("doc", manual.pk).values_list("pk", flat=True))

    document_update(manual, product=kettle)  # the text is the same: its chunks are kept, filed anew
    sources_index("doc", [manual.pk])

    live = _live_chunks("doc", manual.pk)
    assert set(live.values_list("pk", flat=True)) == before
    assert {(c.product_id, c.category_id) for c in live} == {(kettle.pk, kettles.pk)}
    for slug, found in (("drills", set()), ("kettles", before)):  # a category filter follows the move
        visibility = visibility_for(Caller.of(tenant), SearchFilters(category=slug))
        hits = chunk_search_keyword_ids(tenant_id=tenant.pk, query="charge battery", k=10, visibility=visibility)
        assert {cid for cid, _ in hits} & before == found
