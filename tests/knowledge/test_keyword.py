import pytest
from django.db.models import Sum

from knowledge.models import Chunk, KeywordStats, Posting
from knowledge.retrieval.fusion import reciprocal_rank_fusion
from knowledge.retrieval.keyword import chunk_search_keyword
from knowledge.retrieval.vector import chunk_search_vector
from knowledge.services.documents import document_delete, document_update
from knowledge.services.indexing import sources_index
from tests import factories

pytestmark = pytest.mark.django_db

DOCS = {
    "grinder": ("Espresso grinder", "A conical burr grinder for espresso. The burrs grind beans fine and evenly."),
    "kettle": ("Gooseneck kettle", "A kettle with a thin spout for pour-over. Holds one litre of water."),
    "cafe": ("Cafe guide", "Our cafe serves tea, cakes and sandwiches; an espresso is also on the menu."),
}


def _docs(tenant, docs=DOCS, locale="en"):
    created = {
        slug: factories.document(tenant, slug=slug, title=title, body=body, locale=locale)
        for slug, (title, body) in docs.items()
    }
    sources_index("doc", [d.pk for d in created.values()], drain=False)
    return created


def _keys(hits):
    return [h.chunk.source_key for h in hits]


def _stats_match_postings(tenant):
    """The statistics equal what a recount of the live leaves' postings gives."""
    for stats in KeywordStats.objects.filter(tenant=tenant):
        postings = Posting.objects.filter(tenant=tenant, locale=stats.locale)
        assert stats.chunks == postings.values("chunk").distinct().count()
        assert stats.lexemes == (postings.aggregate(n=Sum("tf"))["n"] or 0)


def test_chunk_search_keyword__ranks_by_bm25_and_each_leg_orders_the_fixture(active_space):
    tenant = factories.TenantFactory()
    _docs(tenant)

    keyword = chunk_search_keyword(tenant_id=tenant.pk, query="espresso burr grinders", k=10)
    vector = chunk_search_vector(tenant_id=tenant.pk, query="machine that mills coffee beans", k=3)
    fused = reciprocal_rank_fusion([_keys(keyword), _keys(vector)])

    assert _keys(keyword) == ["grinder", "cafe"]  # stemmed: grinders -> grinder; kettle has no term
    assert keyword[0].score > keyword[1].score > 0
    assert _keys(vector)[0] == "grinder"
    assert fused[0][0] == "grinder"


def test_chunk_search_keyword__never_returns_another_tenants_chunks(active_space):
    mine, other = factories.TenantFactory(), factories.TenantFactory()
    _docs(mine)
    factories.document(other, slug="secret", title="Espresso secrets", body="Espresso espresso espresso.")
    sources_index("doc", list(other.documents.values_list("pk", flat=True)), drain=False)

    hits = chunk_search_keyword(tenant_id=mine.pk, query="espresso", k=10)

    assert hits and all(h.chunk.tenant_id == mine.pk for h in hits)
    assert "secret" not in _keys(hits)


def test_postings__follow_an_edit_and_a_delete(active_space):
    tenant = factories.TenantFactory()
    document = _docs(tenant, {"manual": ("Airship manual", "How to moor a zeppelin in strong wind.")})["manual"]
    assert _keys(chunk_search_keyword(tenant_id=tenant.pk, query="zeppelin", k=5)) == ["manual"]

    document_update(document, body="How to launch a hovercraft from a beach.")
    sources_index("doc", [document.pk], drain=False)

    assert chunk_search_keyword(tenant_id=tenant.pk, query="zeppelin", k=5) == []
    assert _keys(chunk_search_keyword(tenant_id=tenant.pk, query="hovercraft", k=5)) == ["manual"]
    live = Chunk.objects.filter(tenant=tenant, retired_at__isnull=True, is_leaf=True)
    assert set(Posting.objects.filter(tenant=tenant).values_list("chunk_id", flat=True)) == set(
        live.values_list("pk", flat=True)
    )
    _stats_match_postings(tenant)

    document_delete(document)

    assert chunk_search_keyword(tenant_id=tenant.pk, query="hovercraft", k=5) == []
    assert not Posting.objects.filter(tenant=tenant).exists()
    assert KeywordStats.objects.get(tenant=tenant, locale="en").chunks == 0
    _stats_match_postings(tenant)


def test_postings__statistics_count_every_live_leaf_once(active_space):
    tenant = factories.TenantFactory()
    created = _docs(tenant)
    sources_index("doc", [d.pk for d in created.values()], drain=False)  # idempotent: nothing doubles

    stats = KeywordStats.objects.get(tenant=tenant, locale="en")

    assert stats.chunks == Chunk.objects.filter(tenant=tenant, retired_at__isnull=True, is_leaf=True).count() == 3
    _stats_match_postings(tenant)


def test_chunk_search_keyword__german_chunks_are_stemmed_in_german(active_space):
    tenant = factories.TenantFactory()
    _docs(tenant, {"haus": ("Gartenhäuser", "Unsere Häuser aus Holz stehen in vielen Gärten.")}, locale="de")
    _docs(tenant, {"house": ("Garden houses", "Our wooden houses stand in many gardens.")}, locale="en")

    german = chunk_search_keyword(tenant_id=tenant.pk, query="Haus im Garten", k=5, locale="de")
    english = chunk_search_keyword(tenant_id=tenant.pk, query="house", k=5, locale="en")

    assert _keys(german) == ["haus"]  # Häuser -> haus, Gärten -> gart; "im" is a German stop word
    assert _keys(english) == ["house"]
    assert Posting.objects.filter(tenant=tenant, locale="de", term="haus").exists()
    assert not Posting.objects.filter(tenant=tenant, locale="de", term="unser").exists()  # a stop word


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "?!... -- ;;",
        "\x00",
        "lorem ipsum " * 1_000,
        "x" * 10_000,
        "東京 ラーメン",
        "Привет, мир",
        "the of and",
    ],
)
def test_chunk_search_keyword__odd_queries_return_a_list_without_error(active_space, query):
    tenant = factories.TenantFactory()
    _docs(tenant)

    hits = chunk_search_keyword(tenant_id=tenant.pk, query=query, k=10)

    assert isinstance(hits, list) and len(hits) <= 10


def test_chunk_search_keyword__unknown_locale_and_empty_tenant_return_nothing(active_space):
    tenant = factories.TenantFactory()

    assert chunk_search_keyword(tenant_id=tenant.pk, query="espresso", k=10) == []
    assert chunk_search_keyword(tenant_id=tenant.pk, query="espresso", k=10, locale="xx") == []


@pytest.mark.parametrize("k", [1, 3, 50])
def test_chunk_search_keyword__costs_a_few_queries_whatever_k(active_space, django_assert_max_num_queries, k):
    tenant = factories.TenantFactory()
    _docs(tenant)

    # savepoint, work_mem, the query's terms, the two MaxScore steps, release, one load of the hit chunks
    with django_assert_max_num_queries(7):
        hits = chunk_search_keyword(tenant_id=tenant.pk, query="espresso kettle tea", k=k)

    assert len(hits) == min(k, 3)
