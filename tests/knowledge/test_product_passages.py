"""Product text is indexed as passages a shopper would recognise: a heading, attribute groups, paragraphs and
list items, each with a stable anchor that a citation names."""

from urllib.parse import quote

import pytest

from catalog import services as catalog_services
from core.tenancy import Caller
from knowledge.models import Chunk
from knowledge.product_passages import ATTR_LINES_MAX, attribute_line, attribute_pieces
from knowledge.retrieval.fuzzy import chunk_search_fuzzy
from knowledge.retrieval.request import SearchRequest
from knowledge.retrieval.search import search
from knowledge.services.indexing import sources_index
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.model]

INTRO = "The Sonora Trail headphones fold flat and travel in a hard case."
CARE = "Wipe the ear cushions with a damp cloth and let them dry before storing the headphones."
DESCRIPTION = f"""{INTRO}

Key features:
- Forty hours of battery life on a single charge
- Adaptive noise cancelling for trains and flights
- Foldable titanium hinge that survives a drop onto concrete
- Multipoint pairing with two phones at once

{CARE}"""
ATTRIBUTES = {"battery_h": 40, "weight_g": 250, "anc": True, "driver_mm": 40, "colours": ["black", "sand"],
              "bluetooth_version": "5.3", "bluetooth_codecs": ["AAC", "LDAC"]}  # fmt: skip


def _product(**fields):
    tenant = factories.TenantFactory()
    audio = factories.CategoryFactory(tenant=tenant, slug="audio", name="Audio")
    headphones = factories.CategoryFactory(tenant=tenant, slug="headphones", name="Headphones", parent=audio)
    values = dict(handle="sonora-trail", title="Sonora Trail Headphones", brand="Sonora",
                  description=DESCRIPTION, attributes=ATTRIBUTES)  # fmt: skip
    product = factories.product(tenant, headphones, **{**values, **fields})
    sources_index("product", [product.pk], drain=False)
    return product


def _live(product) -> dict[str, Chunk]:
    chunks = Chunk.objects.filter(source_kind="product", source_id=product.pk, retired_at__isnull=True)
    return {c.anchor: c for c in chunks.order_by("ordinal")}


def test_product_passages__heading_attribute_groups_paragraphs_and_bullets_get_their_own_anchors(active_space):
    product = _product()

    live = _live(product)

    assert list(live) == ["head", "attrs", "attrs-bluetooth", "p1", "bullet-1", "bullet-2", "bullet-3", "bullet-4",
                          "p2"]  # fmt: skip
    assert live["head"].text == "Brand: Sonora\nCategory: Audio › Headphones"  # under its title
    assert live["attrs"].text == "Anc: yes\nBattery: 40 h\nColours: black, sand\nDriver: 40 mm\nWeight: 250 g"
    assert live["attrs-bluetooth"].text == "Bluetooth codecs: AAC, LDAC\nBluetooth version: 5.3"
    assert live["p1"].text == f"{INTRO}\n\nKey features:"  # a lead-in too short to stand alone joins its neighbour
    assert live["bullet-3"].text == "Foldable titanium hinge that survives a drop onto concrete"
    assert live["p2"].text == CARE
    assert all(c.is_leaf and c.title == "Sonora Trail Headphones" for c in live.values())
    assert live["bullet-3"].citation_id == "product:sonora-trail@1#bullet-3"


def test_product_passages__an_attribute_passage_never_holds_description_text(active_space):
    product = _product(attributes={f"spec_{i:02d}": i for i in range(12)} | {"weight_kg": 1.5})

    live = _live(product)

    groups = [anchor for anchor in live if anchor.startswith("attrs")]
    assert groups == ["attrs", "attrs-spec", "attrs-spec-2"]  # twelve lines in two even passages
    assert [len(live[a].text.splitlines()) for a in groups] == [1, 6, 6]
    assert all(":" in line for a in groups for line in live[a].text.splitlines())
    assert not any(INTRO in live[a].text or "Forty hours" in live[a].text for a in groups)


def test_attribute_pieces__a_long_list_of_ungrouped_attributes_stays_short_per_passage(active_space):
    pieces = attribute_pieces({f"feature{i:02d}": "yes" for i in range(20)})

    assert [anchor for anchor, _ in pieces] == ["attrs", "attrs-2", "attrs-3"]
    assert all(len(piece.text.splitlines()) <= ATTR_LINES_MAX for _, piece in pieces)


def test_attribute_line__reads_name_value_unit():
    assert attribute_line("torque_nm", 60) == "Torque: 60 Nm"
    assert attribute_line("accuracy_mm_per_m", 0.3) == "Accuracy: 0.3 mm/m"
    assert attribute_line("usb_c", "yes") == "Usb c: yes"  # a unit only follows a number
    assert attribute_line("eta_approved", False) == "Eta approved: no"
    assert attribute_line("notes", "  ") is None


def test_product_search__a_phrase_in_the_third_bullet_returns_that_bullet(active_space):
    product = _product()
    caller = Caller.of(product.tenant)

    result = search(SearchRequest(caller=caller, query="titanium hinge survives a drop onto concrete"))

    top = result.hits[0].chunk
    assert top.citation_id == "product:sonora-trail@1#bullet-3"
    assert top.text == "Foldable titanium hinge that survives a drop onto concrete"


def test_citation__a_bullet_resolves_to_exactly_its_text(active_space):
    product = _product()
    _, raw = factories.api_key(product.tenant)

    response = factories.api_client(raw).get(f"/api/v1/citations/{quote('product:sonora-trail@1#bullet-2')}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["text"] == "Adaptive noise cancelling for trains and flights"
    assert body["title"] == "Sonora Trail Headphones" and body["anchor"] == "bullet-2"


def test_fuzzy_search__a_misspelt_title_finds_the_heading_passage(active_space):
    product = _product()

    hits = chunk_search_fuzzy(tenant_id=product.tenant_id, query="Sonora Trial Headphnes", k=5)

    assert [h.chunk.anchor for h in hits if h.chunk.source_id == product.pk] == ["head"]


def test_sources_index__re_indexing_unchanged_product_text_embeds_nothing(active_space):
    product = _product()
    before = {anchor: c.pk for anchor, c in _live(product).items()}
    catalog_services.products_touch(type(product).objects.filter(pk=product.pk))  # pending, text unchanged

    report = sources_index("product", [product.pk], drain=False)

    assert report.indexed == 1 and report.embedded == 0
    assert {anchor: c.pk for anchor, c in _live(product).items()} == before


def test_product_update__an_edited_paragraph_changes_only_its_passage(active_space):
    product = _product()
    before = _live(product)
    edited = DESCRIPTION.replace(CARE, "Hand-wash the cushions only; the hinge needs no care.")

    catalog_services.product_update(product, description=edited)
    report = sources_index("product", [product.pk], drain=False)

    after = _live(product)
    assert report.embedded == 1
    assert list(after) == list(before)
    assert after["p2"].text == "Hand-wash the cushions only; the hinge needs no care."
    assert {a for a in after if after[a].pk != before[a].pk} == {"p2"}
    assert Chunk.objects.get(pk=before["p2"].pk).retired_at is not None  # the old text stays citable


def test_product_passages__a_translation_has_the_same_passages_behind_its_locale(active_space):
    product = _product(
        translations={"de": {"title": "Sonora Trail Kopfhörer", "description": "Faltbar.\n\n- Vierzig Stunden Akku"}}
    )

    live = _live(product)

    german = [anchor for anchor in live if anchor.startswith("de-")]
    assert german == ["de-head", "de-attrs", "de-attrs-bluetooth", "de-p1", "de-bullet-1"]
    assert live["de-bullet-1"].text == "Vierzig Stunden Akku" and live["de-bullet-1"].locale == "de"
    assert live["de-head"].title == "Sonora Trail Kopfhörer"
