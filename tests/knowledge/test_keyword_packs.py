"""Keyword packs: the packed keyword leg returns BM25's exact top k, stays fresh between builds (new chunks
from the postings table, retired ones skipped), follows a rebuild, and is rebuilt when enough has changed."""

import random
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.tenancy import Caller
from knowledge.models import Chunk, KeywordPack, PackedPostings
from knowledge.retrieval import keyword, packed
from knowledge.retrieval import visibility as visibility_module
from knowledge.retrieval.keyword import chunk_search_keyword_ids
from knowledge.retrieval.request import SearchFilters
from knowledge.retrieval.visibility import visibility_for
from knowledge.services.keyword_packs import keyword_pack_build, keyword_pack_status, keyword_packs_refresh
from knowledge.services.postings import postings_remove
from tests.knowledge.test_keyword_exact import (
    VOCAB,
    _assert_same_top,
    _bm25_top,
    _corpus,
    _queries,
    assert_category_a_gets_its_top_k,
    corpus_chunks,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def packs(settings):
    """Packs for any tenant, due at the first change; chunks created before a build are in it."""
    settings.KEYWORD_PACK_MIN_CHUNKS = 1
    settings.KEYWORD_PACK_MIN_CHANGED = 1
    settings.KEYWORD_PACK_CHANGED_SHARE = 0.0
    settings.KEYWORD_PACK_MARGIN_S = 0
    return settings


@pytest.fixture
def served(monkeypatch):
    """The results the packed path served (None: the SQL path served the locale)."""
    results = []
    top = keyword.packed_top
    monkeypatch.setattr(keyword, "packed_top", lambda *args: results.append(top(*args)) or results[-1])
    return results


def _more_chunks(tenant, rng, count, start):
    """Chunks added to the `_corpus` tenant's two products, as the indexer adds them (postings included)."""
    chunks = Chunk.objects.filter(tenant=tenant).select_related("product__category")
    products = sorted({c.product for c in chunks}, key=lambda p: p.category.slug)  # "a", then "b", as `_corpus`
    return corpus_chunks(rng, tenant, products, range(start, start + count))


def _category_filter(tenant, chunks, slug):
    """(visibility, allowed chunk ids) for a filter on the category `slug` (its small-category path), or
    (None, None) without one."""
    if slug is None:
        return None, None
    visibility = visibility_for(Caller.of(tenant), SearchFilters(category=slug))
    assert visibility.small_category
    return visibility, {c.pk for c in chunks if c.product.category.slug == slug}


def _retire(chunks):
    postings_remove([c.pk for c in chunks])
    Chunk.objects.filter(pk__in=[c.pk for c in chunks]).update(retired_at=timezone.now())


@pytest.mark.parametrize("k", [1, 10, 50])
def test_packed_leg__equals_bm25_computed_from_the_postings(active_space, packs, served, k):
    rng = random.Random(100 + k)
    tenant, _ = _corpus(rng)
    pack = keyword_pack_build(tenant_id=tenant.pk, locale="en")
    assert (pack.generation, pack.chunks) == (1, 400)
    assert pack.postings == sum(len(p.chunk_ids) // 8 for p in PackedPostings.objects.filter(tenant=tenant))

    queries = _queries(rng)
    for terms in queries:
        got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=k)
        _assert_same_top(got, _bm25_top(tenant, terms, k))

    assert len(served) == len(queries) and None not in served  # every query was served from the pack


@pytest.mark.parametrize("category", [None, "a"], ids=["unfiltered", "small-category"])
def test_packed_leg__chunks_added_and_retired_since_the_build_count_at_once(active_space, packs, served, category):
    rng = random.Random(8)
    tenant, chunks = _corpus(rng)
    keyword_pack_build(tenant_id=tenant.pk, locale="en")
    _retire(chunks[::3])  # their packed postings remain: the visibility check skips them
    added_chunks = _more_chunks(tenant, rng, 150, start=1_000)  # not in the pack: read from the postings
    added = {c.pk for c in added_chunks}
    visibility, allowed = _category_filter(tenant, [*chunks, *added_chunks], category)

    from_added = 0
    for terms in _queries(rng, 30):
        got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10, visibility=visibility)
        _assert_same_top(got, _bm25_top(tenant, terms, 10, allowed))
        from_added += len({cid for cid, _ in got} & added)

    assert from_added and None not in served
    assert keyword_pack_status(tenant_id=tenant.pk, locale="en").changed >= 150 + len(chunks[::3])


@pytest.mark.parametrize("category", [None, "a"], ids=["unfiltered", "small-category"])
def test_packed_leg__a_chunk_created_within_the_margin_is_scored_once(active_space, packs, served, category):
    packs.KEYWORD_PACK_MARGIN_S = 3_600  # every chunk of the corpus is in the pack and in the margin
    rng = random.Random(12)
    tenant, chunks = _corpus(rng, size=200)
    keyword_pack_build(tenant_id=tenant.pk, locale="en")
    assert not keyword_pack_status(tenant_id=tenant.pk, locale="en").due  # the margin is read, not rebuilt
    visibility, allowed = _category_filter(tenant, chunks, category)

    for terms in _queries(rng, 20):
        got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10, visibility=visibility)
        _assert_same_top(got, _bm25_top(tenant, terms, 10, allowed))
    assert None not in served


@pytest.mark.django_db(transaction=True)
def test_packed_leg__chunks_of_a_transaction_open_at_the_build_are_read_from_the_postings(active_space, packs, served):
    """An indexing transaction that began before the build and commits after it: its chunks are not in the
    build's snapshot, and were created before it, yet the leg scores them (no margin: MARGIN_S is 0)."""
    rng = random.Random(21)
    tenant, chunks = _corpus(rng, size=200)
    indexed, built, late = threading.Event(), threading.Event(), []

    def index_late():
        try:
            with transaction.atomic():
                late.extend(_more_chunks(tenant, random.Random(22), 60, start=1_000))
                indexed.set()
                built.wait(30)
        finally:
            indexed.set()
            connection.close()

    thread = threading.Thread(target=index_late)
    thread.start()
    try:
        assert indexed.wait(30) and late
        pack = keyword_pack_build(tenant_id=tenant.pk, locale="en")
    finally:
        built.set()
        thread.join()
    assert pack.chunks == 200 and max(c.created_at for c in late) < pack.built_from  # not in the snapshot

    from_late = 0
    for terms in _queries(rng, 30):
        got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10)
        _assert_same_top(got, _bm25_top(tenant, terms, 10))
        from_late += len({cid for cid, _ in got} & {c.pk for c in late})
    assert from_late and None not in served


def test_keyword_pack_build__a_read_only_transaction_open_at_the_build_leaves_the_delta_tight(active_space, packs):
    """A long report or export cannot commit chunks: the delta does not reach back to its start."""
    tenant, _ = _corpus(random.Random(23), size=40)
    reading, built, began = threading.Event(), threading.Event(), []

    def read():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT now()")  # the transaction's start
                began.append(cursor.fetchone()[0])
                reading.set()
                built.wait(30)
        finally:
            reading.set()
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    try:
        assert reading.wait(30) and began
        pack = keyword_pack_build(tenant_id=tenant.pk, locale="en")
    finally:
        built.set()
        thread.join()
    assert began[0] < pack.delta_from <= pack.built_from


@pytest.mark.parametrize("small", [True, False], ids=["small-category", "walked-in-rank-order"])
def test_packed_leg__a_category_filter_gets_the_exact_top_k_of_its_chunks(
    active_space, packs, served, monkeypatch, small
):
    if not small:
        monkeypatch.setattr(visibility_module, "EXACT_CATEGORY_MAX_PRODUCTS", 0)
    monkeypatch.setattr(packed, "MAX_BATCH", 7)  # several batches, each checked in rank order
    rng = random.Random(30)
    tenant, chunks = _corpus(rng)
    keyword_pack_build(tenant_id=tenant.pk, locale="en")

    assert_category_a_gets_its_top_k(rng, tenant, chunks, small)
    assert served and None not in served


def test_packed_leg__past_the_walk_limit_the_sql_path_answers(active_space, packs, served):
    packs.KEYWORD_PACK_WALK_MAX = 0
    rng = random.Random(4)
    tenant, _ = _corpus(rng, size=100)
    keyword_pack_build(tenant_id=tenant.pk, locale="en")

    terms = VOCAB[:3]
    got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10)

    _assert_same_top(got, _bm25_top(tenant, terms, 10))
    assert served == [None]


def test_keyword_packs_refresh__builds_when_due_and_the_leg_follows_the_new_generation(active_space, packs, served):
    rng = random.Random(21)
    tenant, chunks = _corpus(rng, size=150)
    assert [p.tenant_id for p in keyword_packs_refresh()] == [tenant.pk]  # no pack yet: built
    assert not keyword_pack_status(tenant_id=tenant.pk, locale="en").due
    assert keyword_packs_refresh() == []
    terms = VOCAB[:4]
    chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10)  # generation 1 now cached
    assert packed.CACHE.generation(tenant.pk, "en") == 1

    _more_chunks(tenant, rng, 20, start=500)
    _retire(chunks[:10])
    status = keyword_pack_status(tenant_id=tenant.pk, locale="en")
    assert status.due and status.changed >= 30
    packs.KEYWORD_PACK_MIN_CHANGED = 10**6
    assert keyword_packs_refresh() == []  # not enough changed for this threshold
    packs.KEYWORD_PACK_MIN_CHANGED = 1
    (pack,) = keyword_packs_refresh()

    assert (pack.generation, pack.chunks) == (2, 160)
    got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10)
    _assert_same_top(got, _bm25_top(tenant, terms, 10))
    assert packed.CACHE.generation(tenant.pk, "en") == 2 and None not in served


def test_keyword_packs_refresh__small_tenants_stay_on_the_sql_path(active_space, packs, served):
    packs.KEYWORD_PACK_MIN_CHUNKS = 1_000
    tenant, _ = _corpus(random.Random(2), size=50)

    assert keyword_packs_refresh() == [] and not KeywordPack.objects.filter(tenant=tenant).exists()
    terms = VOCAB[:2]
    got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=5)
    _assert_same_top(got, _bm25_top(tenant, terms, 5))
    assert served == []  # without a pack the packed path is not even asked
