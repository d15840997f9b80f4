import pytest

from catalog.services import stock_set
from core.tenancy import Caller
from knowledge.models import Chunk
from knowledge.retrieval import fuzzy
from knowledge.retrieval.fuzzy import chunk_search_fuzzy, chunk_search_fuzzy_ids
from knowledge.retrieval.request import SearchFilters
from knowledge.retrieval.visibility import visibility_for
from knowledge.services.indexing import sources_index
from tests import factories
from tests.factories import WarehouseFactory

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


def test_chunk_search_fuzzy__a_code_prefix_in_any_case_finds_its_skus_and_only_those(catalog):
    tenant, _, drill, sku = catalog
    lookalike = factories.sku(drill, code="XW-HD18-2AH")  # one letter off: similar, but not starting so
    sources_index("sku", [lookalike.pk], drain=False)

    hits = chunk_search_fuzzy(tenant_id=tenant.pk, query="bw-hd1", k=5)

    assert {h.chunk.source_id for h in hits if h.chunk.source_kind == "sku"} == {sku.pk}


def test_chunk_search_fuzzy__a_misspelt_code_without_prefix_match_is_found_by_similarity(catalog):
    tenant, _, _, sku = catalog

    hits = chunk_search_fuzzy(tenant_id=tenant.pk, query="BW-HD81-2AH", k=5)

    assert any(h.chunk.source_kind == "sku" and h.chunk.source_id == sku.pk for h in hits)


def test_chunk_search_fuzzy__a_long_question_is_not_matched_against_titles(catalog):
    tenant, headphones, _, _ = catalog
    title_words = "Sonora Wireles Headphones"  # one typo: the fuzzy leg's job

    assert chunk_search_fuzzy(tenant_id=tenant.pk, query=title_words, k=5)
    question = f"could you please tell me whether the {title_words} come with a carrying case"
    assert chunk_search_fuzzy(tenant_id=tenant.pk, query=question, k=5) == []


def _stocked(tenant, quantities: dict[str, int]) -> dict:
    """{title: product} for products of one brand, each with one SKU holding `quantities[title]`, indexed."""
    warehouse, products = WarehouseFactory(tenant=tenant), {}
    for title, quantity in quantities.items():
        products[title] = factories.product(tenant, title=title, brand="Ostergard")
        stock_set(sku=factories.sku(products[title]), warehouse=warehouse, quantity=quantity)
    sources_index("product", [p.pk for p in products.values()], drain=False)
    return products


@pytest.fixture
def model_line(active_space):
    """Two machines of one line, one stocked, whose titles differ only by their model number."""
    tenant = factories.TenantFactory()
    titles = {"T110": "Ostergard Quantum T110 Coffee Machine", "T120": "Ostergard Quantum T120 Coffee Machine"}
    products = _stocked(tenant, {titles["T110"]: 0, titles["T120"]: 5})
    return tenant, {model: products[title] for model, title in titles.items()}


def _sources(tenant, query, visibility=None) -> set[tuple[str, int]]:
    """(source kind, source id) of the chunks the fuzzy leg finds for `query`."""
    rows = chunk_search_fuzzy_ids(tenant_id=tenant.pk, query=query, k=10, visibility=visibility)
    return set(Chunk.objects.filter(pk__in=[cid for cid, _ in rows]).values_list("source_kind", "source_id"))


def _products_found(tenant, query, visibility=None) -> set[int]:
    return {source_id for kind, source_id in _sources(tenant, query, visibility) if kind == "product"}


def test_chunk_search_fuzzy__a_misspelt_title_ranks_the_titles_holding_its_other_words(model_line):
    tenant, machines = model_line

    # "Ostergrd" is misspelt; the titles holding every other word are the T110's alone
    assert _products_found(tenant, "Ostergrd Quantum T110 Coffee Machine") == {machines["T110"].pk}


def test_chunk_search_fuzzy__words_too_common_to_narrow_leave_the_titles_to_the_trigram_index(model_line, monkeypatch):
    tenant, machines = model_line
    monkeypatch.setattr(fuzzy, "SPELT_MAX", 0)  # every narrowing is then too wide

    assert _products_found(tenant, "Ostergrd Quantum T110 Coffee Machine") == {m.pk for m in machines.values()}


def test_chunk_search_fuzzy__when_no_narrowed_title_is_visible_those_one_word_off_are_ranked(model_line):
    tenant, machines = model_line
    _stocked(tenant, {"Ostergard Quantum T-110 Coffee Machines": 5})  # a look-alike
    in_stock = visibility_for(Caller.of(tenant), SearchFilters(in_stock=True))  # the T110 is out of stock

    # the T120 differs by its model number alone; the look-alike, similar letter by letter, by two words
    assert _products_found(tenant, "Ostergrd Quantum T110 Coffee Machine", in_stock) == {machines["T120"].pk}


def test_chunk_search_fuzzy__titles_narrowed_by_the_words_but_not_visible_end_the_title_search(active_space):
    tenant = factories.TenantFactory()
    _stocked(tenant, {"Ostergard Quantum T110 Coffee Machine": 0, "Ostergard Quantum T-110 Coffee Machines": 5})
    in_stock = visibility_for(Caller.of(tenant), SearchFilters(in_stock=True))

    # Every title holding all but one of the query's words is out of stock: the look-alike that differs by
    # two words (similar letter by letter) is the keyword leg's to find, not worth a trigram search here.
    assert _products_found(tenant, "Ostergrd Quantum T110 Coffee Machine", in_stock) == set()
    assert _products_found(tenant, "Ostergrd Quantum T110 Coffee Machine") != set()


def test_chunk_search_fuzzy__a_code_prefix_of_the_tenant_leaves_titles_unsearched(catalog):
    tenant, _, _, sku = catalog
    shade = factories.product(tenant, title="BW-HD18 Spare Battery Cover", brand="Partsy")  # holds the code
    sources_index("product", [shade.pk], drain=False)

    as_code, as_title = (_sources(tenant, "bw-hd18-2"), _sources(tenant, "hd18x"))

    assert as_code == {("sku", sku.pk)}  # the SKU starting so; not the title that holds the same text
    assert ("product", shade.pk) in as_title  # no code starts so: the titles are searched
