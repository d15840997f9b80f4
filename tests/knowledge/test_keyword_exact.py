"""The keyword leg's pruning (MaxScore, the small-category path) returns exactly BM25's top k.

The reference is BM25 computed here in Python from the stored postings, with document frequencies counted
from them rather than read from the term statistics, over a corpus where a few terms are common and most
are rare (the shape that makes pruning pay).
"""

import math
import random

import pytest
from django.db import connection
from django.utils import timezone

from core.tenancy import Caller
from knowledge.models import Chunk, KeywordStats, Posting, TermStats
from knowledge.retrieval import keyword
from knowledge.retrieval import visibility as visibility_module
from knowledge.retrieval.keyword import BM25_B, BM25_K1, chunk_search_keyword_ids
from knowledge.retrieval.request import SearchFilters
from knowledge.retrieval.visibility import visibility_for, with_category_chunks
from knowledge.services.postings import postings_add, postings_remove
from tests import factories

pytestmark = pytest.mark.django_db

VOCAB = [f"{stem}{suffix}" for stem in ("lamp", "drill", "kettle", "sofa", "cable") for suffix in "abcdefgh"]


def _corpus(rng: random.Random, size: int = 400):
    """A tenant whose chunks draw words Zipf-like from VOCAB, half under product "a", half under "b"."""
    tenant = factories.TenantFactory()
    products = [factories.product(tenant, factories.CategoryFactory(tenant=tenant, slug=slug)) for slug in ("a", "b")]
    return tenant, corpus_chunks(rng, tenant, products, range(size))


def corpus_chunks(rng: random.Random, tenant, products, numbers) -> list[Chunk]:
    """Chunks numbered `numbers`, alternately under the two products, with postings as the indexer writes."""
    weights = [1 / (rank + 1) for rank in range(len(VOCAB))]
    chunks = Chunk.objects.bulk_create(
        Chunk(tenant=tenant, source_kind="doc", source_id=i, source_key=f"d{i}", source_version=1, anchor="p1",
              ordinal=0, locale="en", text=" ".join(rng.choices(VOCAB, weights, k=rng.randint(1, 30))),
              token_count=1, content_hash=f"{i:064d}", product=products[i % 2],
              category_id=products[i % 2].category_id)
        for i in numbers
    )  # fmt: skip
    postings_add([c.pk for c in chunks])
    return chunks


def _lexemes(words):
    with connection.cursor() as cursor:  # the postings' own stemming
        cursor.execute("SELECT lexeme FROM unnest(to_tsvector('english', %s))", [" ".join(words)])
        return [row[0] for row in cursor.fetchall()]


def _bm25_top(tenant, words, k, allowed=None):
    """BM25's top k over the stored postings, recounted here; ties broken by chunk id, as the leg does."""
    stats = KeywordStats.objects.get(tenant=tenant, locale="en")
    n, avgdl = stats.chunks, stats.lexemes / stats.chunks
    scores = {}
    for term in _lexemes(words):
        postings = list(Posting.objects.filter(tenant=tenant, locale="en", term=term).values_list("chunk", "tf", "dl"))
        df = len(postings)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for chunk_id, tf, dl in postings:
            weight = idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / avgdl))
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight
    ranked = sorted((-s, cid) for cid, s in scores.items() if allowed is None or cid in allowed)
    return [(cid, -s) for s, cid in ranked[:k]]


def _assert_same_top(got, expected):
    assert len(got) == len(expected)
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-9)
    if expected:  # below the k-th score ids must agree; at it, equal scores may be cut anywhere
        cut = expected[-1][1] + 1e-9
        assert {c for c, s in got if s > cut} == {c for c, s in expected if s > cut}


def _queries(rng, count=25):
    return [rng.sample(VOCAB, rng.randint(1, 5)) for _ in range(count)]


@pytest.mark.parametrize("k", [1, 5, 20])
def test_keyword_leg__pruned_results_equal_bm25_computed_from_the_postings(active_space, monkeypatch, k):
    splits = []
    split = keyword._split
    monkeypatch.setattr(keyword, "_split", lambda terms, theta: splits.append(split(terms, theta)) or splits[-1])
    rng = random.Random(k)
    tenant, chunks = _corpus(rng)
    postings_remove([c.pk for c in chunks[::7]])  # retired chunks: df falls, the bounds stay wide

    for terms in _queries(rng):
        got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=k)
        _assert_same_top(got, _bm25_top(tenant, terms, k))

    assert any(non_essential for _, non_essential in splits)  # the pruning was exercised, not bypassed


def test_keyword_leg__the_pivot_terms_pair_raises_the_threshold_and_keeps_the_top_k(active_space, monkeypatch):
    thetas = []
    split = keyword._split
    monkeypatch.setattr(keyword, "_split", lambda terms, theta: thetas.append(theta) or split(terms, theta))
    rng = random.Random(11)
    tenant, _ = _corpus(rng)
    pivots = {"alone": (-1, 500), "capped pair": (10**9, 3), "pair": (10**9, 500)}  # (PAIR_PIVOT_MAX_DF, PAIR_MAX)
    raised = 0
    for terms in [q for q in _queries(rng, 40) if len(q) >= 3]:
        expected, first = _bm25_top(tenant, terms, 10), {}
        for name, (max_df, pair_max) in pivots.items():
            monkeypatch.setattr(keyword, "PAIR_PIVOT_MAX_DF", max_df)
            monkeypatch.setattr(keyword, "PAIR_MAX", pair_max)
            thetas.clear()
            _assert_same_top(chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10), expected)
            first[name] = thetas[0] if thetas else None
        if first["alone"] is not None and first["pair"] is not None and first["pair"] > first["alone"] + 1e-9:
            raised += 1
    assert raised  # the pair's chunks did score above the pivot's k-th: the threshold rose, results unchanged


@pytest.mark.parametrize("small", [True, False], ids=["small-category", "maxscore-visible"])
def test_keyword_leg__a_category_filter_gets_the_exact_top_k_of_its_chunks(active_space, monkeypatch, small):
    if not small:
        monkeypatch.setattr(visibility_module, "EXACT_CATEGORY_MAX_PRODUCTS", 0)
    rng = random.Random(7)
    tenant, chunks = _corpus(rng)
    assert_category_a_gets_its_top_k(rng, tenant, chunks, small)


def assert_category_a_gets_its_top_k(rng, tenant, chunks, small: bool) -> None:
    """Filtered to `_corpus`'s category "a", the leg returns BM25's top k of that category's chunks."""
    visibility = visibility_for(Caller.of(tenant), SearchFilters(category="a"))
    allowed = {c.pk for c in chunks if c.product.category.slug == "a"}
    assert visibility.small_category is small

    for terms in _queries(rng):
        got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=10, visibility=visibility)
        _assert_same_top(got, _bm25_top(tenant, terms, 10, allowed))


def test_term_stats__document_frequency_is_exact_and_the_bounds_hold_after_removals(active_space):
    rng = random.Random(3)
    tenant, chunks = _corpus(rng, size=120)
    postings_remove([c.pk for c in chunks[::3]])
    postings_add([c.pk for c in chunks[::3]])  # re-added: the statistics move back
    postings_remove([c.pk for c in chunks[1::5]])
    stats = KeywordStats.objects.get(tenant=tenant, locale="en")
    avgdl = stats.lexemes / stats.chunks

    for row in TermStats.objects.filter(tenant=tenant):
        postings = list(Posting.objects.filter(tenant=tenant, term=row.term).values_list("tf", "dl"))
        assert row.df == len(postings)
        scale = max(1.0, avgdl / row.weight_avgdl)
        for tf, dl in postings:
            assert tf <= row.max_tf and dl >= row.min_dl
            tf_part = tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / avgdl))
            assert tf_part <= row.max_weight * scale + 1e-12


@pytest.mark.parametrize("cascade_max", [1, 6], ids=["one-stage-then-together", "staged"])
def test_keyword_leg__held_chunks_and_staged_terms_keep_the_top_k(active_space, monkeypatch, cascade_max):
    monkeypatch.setattr(keyword, "HELD_MIN_DF", -1)  # tried on every query, not only those of common terms
    monkeypatch.setattr(keyword, "CASCADE_MAX", cascade_max)
    monkeypatch.setattr(keyword, "CASCADE_MIN_POSTINGS", 0)  # staged on this small corpus too
    outcomes, staged = [], []
    held_top, second_step = keyword._held_top, keyword._second_step
    monkeypatch.setattr(keyword, "_held_top", lambda *args: outcomes.append(held_top(*args)) or outcomes[-1])
    monkeypatch.setattr(
        keyword, "_second_step", lambda e, ne, theta, p: staged.append(len(ne)) or second_step(e, ne, theta, p)
    )
    rng = random.Random(20 + cascade_max)
    tenant, chunks = _corpus(rng)
    postings_remove([c.pk for c in chunks[::9]])

    for k in (3, 10):
        for terms in _queries(rng, 30):
            got = chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(terms), k=k)
            _assert_same_top(got, _bm25_top(tenant, terms, k))

    assert any(done for _, done in outcomes)  # the held chunks were the top k
    assert any(top and not done for top, done in outcomes)  # their threshold led MaxScore's second step
    assert any(n >= 2 for n in staged)  # several terms to add: one at a time, or one then the rest together


def test_category_chunks__listed_once_per_search_the_leg_returns_what_it_reads_itself(active_space):
    rng = random.Random(9)
    tenant, chunks = _corpus(rng)
    factories.CategoryFactory(tenant=tenant, slug="empty")
    postings_remove([c.pk for c in chunks[::5]])
    Chunk.objects.filter(pk__in=[c.pk for c in chunks[::5]]).update(retired_at=timezone.now())
    visibility = visibility_for(Caller.of(tenant), SearchFilters(category="a"))
    listed = with_category_chunks(visibility)

    live_in_a = sorted(c.pk for c in chunks[::2] if c.pk not in {r.pk for r in chunks[::5]})
    assert [int(i) for i in listed.params["v_chunks"].split(",")] == live_in_a  # sorted, live leaves only
    assert listed.category_chunks_sql != visibility.category_chunks_sql
    for terms in _queries(rng, 15):
        query = " ".join(terms)
        expected = chunk_search_keyword_ids(tenant_id=tenant.pk, query=query, k=10, visibility=visibility)
        assert chunk_search_keyword_ids(tenant_id=tenant.pk, query=query, k=10, visibility=listed) == expected
    empty = with_category_chunks(visibility_for(Caller.of(tenant), SearchFilters(category="empty")))
    assert empty.params["v_chunks"] == ""
    assert chunk_search_keyword_ids(tenant_id=tenant.pk, query=" ".join(VOCAB[:3]), k=10, visibility=empty) == []
