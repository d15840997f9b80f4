"""GET /api/v1/search/: hybrid search with entitlement, filters, facets and stable pages."""

from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal

import hypothesis
import pytest
from hypothesis import strategies as st

from catalog import services as catalog_services
from catalog.models import Product
from core.tenancy import Caller
from knowledge.models import Chunk
from knowledge.retrieval.request import SearchFilters, SearchRequest
from knowledge.retrieval.search import candidate_rows, highlight, price_band, search
from knowledge.retrieval.visibility import visibility_for
from knowledge.services.indexing import sources_index
from tests import factories

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search/"
ALL = {"page_size": 50}  # the whole (small) candidate set on one page


@dataclass
class Shop:
    tenant: object
    retail: object
    b2b: object
    products: dict  # handle -> (category slug, in stock, lowest retail price)


@pytest.fixture
def shop(active_space):
    """Headphones, tools and kitchen products, a returns policy; a B2B group entitled to headphones only."""
    tenant = factories.TenantFactory(slug="acme")
    audio = factories.CategoryFactory(tenant=tenant, slug="audio", name="Audio")
    headphones = factories.CategoryFactory(tenant=tenant, slug="headphones", name="Headphones", parent=audio)
    tools = factories.CategoryFactory(tenant=tenant, slug="tools", name="Tools")
    kitchen = factories.CategoryFactory(tenant=tenant, slug="kitchen", name="Kitchen")
    b2b = factories.CustomerGroupFactory(tenant=tenant, code="b2b", all_categories=False)
    b2b.categories.set([audio])  # and so its subcategory headphones
    retail_list = factories.PriceListFactory(tenant=tenant, code="retail", currency="EUR")
    b2b_list = factories.PriceListFactory(tenant=tenant, code="b2b", currency="EUR", customer_group=b2b)
    warehouse = factories.WarehouseFactory(tenant=tenant, code="berlin", name="Berlin", country="DE")
    rows = [
        ("sonora", "Sonora Wireless Headphones", headphones, "Sonora", "80.00", 5, "contains_batteries"),
        ("studio", "Studio Monitor Headphones", headphones, "Aural", "300.00", 0, "none"),
        ("drill", "Boltwerk Cordless Hammer Drill", tools, "Boltwerk", "150.00", 2, "contains_batteries"),
        ("kettle", "Aqua Electric Kettle", kitchen, "Brew", "30.00", 0, "none"),
    ]
    products, skus, expected = [], [], {}
    for handle, title, category, brand, price, stock, compliance in rows:
        product = factories.product(
            tenant,
            category,
            handle=handle,
            title=title,
            brand=brand,
            compliance_category=compliance,
            description=f"The {title} by {brand}. Built to last and easy to use every day.",
        )
        sku = factories.sku(product, code=f"{handle.upper()}-1")
        catalog_services.price_set(price_list=retail_list, sku=sku, amount=Decimal(price))
        catalog_services.price_set(
            price_list=b2b_list, sku=sku, amount=(Decimal(price) * Decimal("0.8")).quantize(Decimal("0.01"))
        )
        catalog_services.stock_set(sku=sku, warehouse=warehouse, quantity=stock)
        products.append(product.pk)
        skus.append(sku.pk)
        expected[handle] = (category.slug, stock > 0, Decimal(price))
    policy = factories.policy(tenant, slug="returns", title="Returns", body="Return any headphones within 30 days.")
    sources_index("product", products, drain=False)
    sources_index("sku", skus, drain=False)
    sources_index("policy", [policy.pk], drain=False)
    _, retail_raw = factories.api_key(tenant)
    _, b2b_raw = factories.api_key(tenant, b2b)
    return Shop(tenant, factories.api_client(retail_raw), factories.api_client(b2b_raw), expected)


def _search(client, **params):
    response = client.get(SEARCH, params)
    assert response.status_code == 200, response.content
    return response.json()


def _product_results(body):
    return [r for r in body["results"] if r["product"] is not None]


def test_search_api__results_carry_citation_ids_leg_scores_and_highlights(shop):
    body = _search(shop.retail, q="wireless headphones")

    top = body["results"][0]
    assert top["product"] == "sonora"
    assert top["citation_id"] in {c.citation_id for c in Chunk.objects.filter(tenant=shop.tenant)}
    assert set(top["legs"]) == {"vector", "keyword", "fuzzy", "fused"}
    assert top["legs"]["keyword"] is not None and top["legs"]["vector"] is not None and top["legs"]["fused"] > 0
    assert "<mark>" in top["snippet"]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["versions"]["ranking"] == "v0" and body["versions"]["reranker"] == "feature@v0"
    assert body["versions"]["space"]


def test_search_api__a_misspelt_title_finds_its_product(shop):
    body = _search(shop.retail, q="Boltwrek cordles hamer dril")

    assert "drill" in [r["product"] for r in body["results"][:3]]


def test_search_api__another_tenant_never_sees_rows(shop):
    other = factories.TenantFactory(slug="other")
    mine = factories.product(other, handle="other-sonora", title="Sonora Wireless Headphones", brand="Sonora")
    sources_index("product", [mine.pk], drain=False)
    _, raw = factories.api_key(other)
    acme_citations = {c.citation_id for c in Chunk.objects.filter(tenant=shop.tenant)}

    body = _search(factories.api_client(raw), q="Sonora wireless headphones", **ALL)

    assert body["count"] >= 1
    assert {r["product"] for r in body["results"]} == {"other-sonora"}
    assert not acme_citations & {r["citation_id"] for r in body["results"]}
    assert set(body["facets"]["category"]) <= {mine.category.slug}


def test_search_api__a_restricted_group_sees_only_its_categories_in_results_and_facets(shop):
    body = _search(shop.b2b, q="kettle drill headphones", **ALL)

    handles = {r["product"] for r in _product_results(body)}
    assert handles and handles <= {"sonora", "studio"}
    assert set(body["facets"]["category"]) == {"headphones"}
    assert set(body["facets"]["brand"]) <= {"Sonora", "Aural"}
    # the unrestricted retail key does see the rest, so the filter above did the work
    retail = {r["product"] for r in _product_results(_search(shop.retail, q="kettle drill headphones", **ALL))}
    assert {"kettle", "drill"} <= retail


def _facets_of(shop, body):
    """Recount the facets from the results themselves: each product once, however many of its passages match."""
    products = [shop.products[handle] for handle in dict.fromkeys(r["product"] for r in _product_results(body))]
    return {
        "category": dict(Counter(category for category, _, _ in products)),
        "in_stock": {"true": sum(s for _, s, _ in products), "false": sum(not s for _, s, _ in products)},
        "price": {k: v for k, v in Counter(price_band(p) for _, _, p in products).items()},
    }


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        ({"category": "audio"}, {"sonora", "studio"}),  # a parent category includes its subcategories
        ({"category": "kitchen"}, {"kettle"}),
        ({"in_stock": "true"}, {"sonora", "drill"}),
        ({"in_stock": "false"}, {"studio", "kettle"}),
        ({"price_min": "100"}, {"studio", "drill"}),
        ({"price_min": "50", "price_max": "200"}, {"sonora", "drill"}),
        ({"compliance_category": "contains_batteries"}, {"sonora", "drill"}),
    ],
)
def test_search_api__filters_restrict_results_and_facets_match_them(shop, filters, allowed):
    body = _search(shop.retail, q="headphones drill kettle", **filters, **ALL)

    handles = {r["product"] for r in body["results"]}
    assert handles == allowed  # no policy either: a product filter excludes product-less chunks
    assert body["count"] == len(body["results"])
    expected = _facets_of(shop, body)
    assert body["facets"]["category"] == expected["category"]
    assert body["facets"]["in_stock"] == expected["in_stock"]
    assert {k: v for k, v in body["facets"]["price"].items() if v} == expected["price"]


def test_search_api__without_product_filters_policies_are_found(shop):
    body = _search(shop.retail, q="return policy within 30 days")

    assert any(r["kind"] == "policy" and r["product"] is None for r in body["results"])


def test_search__a_product_scope_keeps_to_those_products_passages(shop):
    sonora = Product.objects.get(tenant=shop.tenant, handle="sonora")
    request = SearchRequest(caller=Caller.of(shop.tenant), query="headphones return within 30 days", size=50)

    scoped = search(replace(request, product_scope=(sonora.pk,)))
    unscoped = search(request)

    assert scoped.hits and {hit.chunk.product_id for hit in scoped.hits} == {sonora.pk}
    assert {hit.chunk.product_id for hit in unscoped.hits} > {sonora.pk}  # other products, and the policy (None)


def test_search__a_product_scope_with_policies_adds_the_tenants_policies_and_nothing_else(shop):
    sonora = Product.objects.get(tenant=shop.tenant, handle="sonora")
    guide = factories.document(shop.tenant, slug="care-guide", title="Headphones care", body="Return headphones dry.")
    other = factories.TenantFactory(slug="elsewhere")
    foreign = factories.policy(other, slug="returns", title="Returns", body="Return any headphones within 30 days.")
    sources_index("doc", [guide.pk], drain=False)
    sources_index("policy", [foreign.pk], drain=False)
    request = SearchRequest(
        caller=Caller.of(shop.tenant), query="return headphones within 30 days", size=50, product_scope=(sonora.pk,)
    )

    scoped = search(replace(request, with_policies=True))
    narrowed = search(replace(request, with_policies=True, filters=SearchFilters(in_stock=True)))

    kinds = {(hit.chunk.source_kind, hit.chunk.product_id, hit.chunk.tenant_id) for hit in scoped.hits}
    assert ("policy", None, shop.tenant.pk) in kinds and ("product", sonora.pk, shop.tenant.pk) in kinds
    assert {(kind, product) for kind, product, _ in kinds} <= {
        ("policy", None),
        ("product", sonora.pk),
        ("sku", sonora.pk),
    }
    assert {tenant for _, _, tenant in kinds} == {shop.tenant.pk}  # the other tenant's policy and the guide: never
    assert narrowed.hits and {hit.chunk.product_id for hit in narrowed.hits} == {sonora.pk}  # a filter: no policies


def test_search_api__pages_never_repeat_a_result(shop):
    whole = _search(shop.retail, q="headphones", **ALL)
    pages = [_search(shop.retail, q="headphones", page=n, page_size=3) for n in (1, 2, 3)]

    seen = [r["citation_id"] for page in pages for r in page["results"]]
    assert whole["count"] > 3
    assert len(seen) == len(set(seen))
    assert seen == [r["citation_id"] for r in whole["results"]][: len(seen)]
    assert {p["count"] for p in pages} == {whole["count"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "kettle", "locale": "fr"}, "locale"),
        ({"q": "kettle", "category": "not a slug!"}, "category"),
        ({"q": "kettle", "in_stock": "maybe"}, "in_stock"),
        ({"q": "kettle", "price_min": "cheap"}, "price_min"),
        ({"q": "kettle", "price_max": "-1"}, "price_max"),
        ({"q": "kettle", "price_min": "10", "price_max": "5"}, "price_max"),
        ({"q": "kettle", "compliance_category": "radioactive"}, "compliance_category"),
        ({"q": "kettle", "page": "0"}, "page"),
        ({"q": "kettle", "page": "x"}, "page"),
        ({"q": "kettle", "page_size": "51"}, "page_size"),
        ({"q": "kettle", "page_size": "0"}, "page_size"),
    ],
)
def test_search_api__bad_params_are_a_400_naming_the_field(shop, params, field):
    response = shop.retail.get(SEARCH, params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("q", ["?!...", "%_\\", "x" * 500, "Беспроводные наушники", "充電式ドリル", "<script>"])
def test_search_api__odd_queries_are_answered(shop, q):
    body = _search(shop.retail, q=q)

    assert isinstance(body["results"], list)
    assert all("<script>" not in r["snippet"] for r in body["results"])


def test_search_api__broken_utf8_in_the_query_string_is_answered(shop):
    response = shop.retail.get(SEARCH + "?q=%ff%fe%fdkettle")

    assert response.status_code == 200


def test_search_api__a_page_past_the_end_is_empty(shop):
    body = _search(shop.retail, q="kettle", page=1000)

    assert body["results"] == [] and body["count"] > 0


def test_search_api__unauthenticated_is_a_401(shop):
    response = factories.api_client().get(SEARCH, {"q": "kettle"})

    assert response.status_code == 401


def test_highlight__marks_query_words_and_escapes_the_rest():
    text = "Intro line. Use <b>Headphones</b> & more. Unrelated tail."

    snippet = highlight(text, ["headphones"])

    assert snippet.startswith("Use &lt;b&gt;<mark>Headphones</mark>&lt;/b&gt; &amp; more.")
    assert "Intro" not in snippet


@pytest.mark.parametrize("group", [False, True])
def test_search__candidate_features_are_one_query_whatever_the_filters(shop, django_assert_num_queries, group):
    b2b = shop.tenant.customer_groups.get(code="b2b") if group else None
    caller = Caller.of(shop.tenant, b2b)
    ids = list(Chunk.objects.filter(tenant=shop.tenant).values_list("pk", flat=True))
    filters = {
        "category": "audio",
        "in_stock": True,
        "price_min": Decimal(1),
        "compliance_category": "contains_batteries",
    }

    for params in ({}, filters):  # sonora (its product and SKU chunks) matches the filters
        visibility = visibility_for(caller, SearchFilters(**params))
        with django_assert_num_queries(1):
            rows = candidate_rows(visibility, ids)
        assert rows and all(row["id"] in ids for row in rows)


WORDS = ["headphones", "wireless", "drill", "kettle", "sonora", "boltwerk", "returns", "studio", "hamer", "días"]
FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "category": st.sampled_from(["audio", "headphones", "tools", "kitchen", "nonexistent"]),
        "in_stock": st.sampled_from(["true", "false"]),
        "price_min": st.sampled_from(["0", "50", "100.5"]),
        "price_max": st.sampled_from(["200", "1000"]),
        "compliance_category": st.sampled_from(["none", "contains_batteries", "hazardous"]),
        "locale": st.sampled_from(["en", "de"]),
    },
)


@hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), filters=FILTERS)
def test_search_api__no_filter_or_query_leaks_another_tenant_or_an_unentitled_category(shop, words, filters):
    """A property over random queries and filters: three tenants, a restricted group, nothing leaks."""
    other_citations = _other_tenants_citations(shop)
    for client, entitled in ((shop.retail, None), (shop.b2b, {"headphones"})):
        body = _search(client, q=" ".join(words), page_size=50, **filters)

        citations = {r["citation_id"] for r in body["results"]}
        assert not citations & other_citations
        products = {r["product"] for r in body["results"] if r["product"]}
        assert products <= set(shop.products)
        if entitled is not None:
            assert {shop.products[p][0] for p in products} <= entitled
            assert set(body["facets"]["category"]) <= entitled
        assert sum(body["facets"]["category"].values()) == len({r["product"] for r in _product_results(body)})


def _other_tenants_citations(shop) -> set[str]:
    """Two more tenants with look-alike products (made once per test, reused across examples)."""
    if not hasattr(shop, "others"):
        ids = []
        for slug in ("globex", "initech"):
            tenant = factories.TenantFactory(slug=slug)
            for title in ("Sonora Wireless Headphones", "Boltwerk Cordless Hammer Drill", "Aqua Electric Kettle"):
                ids.append(factories.product(tenant, title=title, brand=title.split()[0]).pk)
        sources_index("product", ids, drain=False)
        shop.others = {c.citation_id for c in Chunk.objects.exclude(tenant=shop.tenant)}
    return shop.others


@pytest.mark.django_db(transaction=True)
def test_search__with_committed_rows_the_vector_leg_keeps_a_connection_of_its_own(active_space, monkeypatch):
    from django.db import connection

    from knowledge.retrieval import search as search_module

    tenant = factories.TenantFactory()
    category = factories.CategoryFactory(tenant=tenant, slug="audio")
    products = [factories.product(tenant, category, title=f"Wireless Headphones {i}") for i in range(3)]
    sources_index("product", [p.pk for p in products], drain=False)
    on_own_connection, pids = search_module._on_own_connection, []

    def recording(*args):
        hits = on_own_connection(*args)
        pids.append(connection.connection.info.backend_pid)  # the leg's thread's connection, still open
        return hits

    monkeypatch.setattr(search_module, "_on_own_connection", recording)
    results = [
        search_module.search(SearchRequest(caller=Caller.of(tenant), query="headphones", size=10)) for _ in range(3)
    ]

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [sorted(set(pids))])
        alive = cursor.fetchone()[0]
    assert len(pids) == 3 and connection.connection.info.backend_pid not in pids  # not the request's connection
    assert alive == len(set(pids))  # kept for the next request, not closed (a cold backend per request)
    assert all(hit.legs["vector"] is not None for result in results for hit in result.hits)
    assert results[0].hits and [h.chunk.pk for h in results[-1].hits] == [h.chunk.pk for h in results[0].hits]


@pytest.mark.django_db(transaction=True)
def test_search__the_vector_leg_runs_on_the_requests_connection_while_other_searches_run(active_space):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge.retrieval.search import IN_FLIGHT, search

    tenant = factories.TenantFactory()
    product = factories.product(tenant, factories.CategoryFactory(tenant=tenant), title="Wireless Headphones")
    sources_index("product", [product.pk], drain=False)

    def vector_statements():
        with CaptureQueriesContext(connection) as captured:
            result = search(SearchRequest(caller=Caller.of(tenant), query="headphones", size=10))
        assert result.hits and result.hits[0].legs["vector"] is not None
        return [q for q in captured.captured_queries if "knowledge_chunkembedding" in q["sql"]]

    assert vector_statements() == []  # alone: on the vector leg's own connection
    with IN_FLIGHT.search():  # another search in flight in this process
        assert len(vector_statements()) == 1


def test_search__a_leftover_leg_runs_once_on_the_first_free_thread_and_its_error_reaches_the_waiter():
    import threading

    from knowledge.retrieval.search import _Leftover

    runs = []
    leftover = _Leftover(lambda: runs.append(threading.current_thread().name) or {"chunk": 1.0})
    other = threading.Thread(target=leftover.take, name="vector-leg")
    other.start()
    other.join()
    assert leftover.result() == {"chunk": 1.0}  # taken by the free thread, not run again by the waiter
    assert runs == ["vector-leg"]

    failing = _Leftover(lambda: 1 / 0)
    other = threading.Thread(target=failing.take)
    other.start()
    other.join()
    with pytest.raises(ZeroDivisionError):
        failing.result()

    waiting = _Leftover(lambda: "here")
    assert waiting.result() == "here"  # nobody took it: the waiter runs it itself
