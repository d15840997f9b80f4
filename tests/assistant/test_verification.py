"""CatalogVerifier: every SKU, price, stock claim, figure and policy statement is checked against the live shop."""

import pytest

from assistant.pipeline.sentences import SentenceSplitter, split_sentences
from catalog.models import CustomerGroup
from tests.assistant.conftest import verify_draft

pytestmark = pytest.mark.django_db


def test_verifier__keeps_cited_supported_sentences_and_renumbers_citations(shop):
    result = verify_draft(
        shop, "You can return items within 30 days of delivery [2].", "sku:BWK-DRL-200", "policy:returns-eu"
    )

    assert result.verdict == "verified"
    assert result.answer == "You can return items within 30 days of delivery [1]."
    assert [c.citation_id for c in result.citations] == ["policy:returns-eu@1#c1"]


def test_verifier__drops_a_sentence_without_a_valid_citation(shop):
    draft = "Free returns forever on every order. You can return items within 30 days of delivery [1]. Cheap [7]."

    result = verify_draft(shop, draft, "policy:returns-eu")

    assert result.verdict == "partial"
    assert result.answer == "You can return items within 30 days of delivery [1]."
    assert [c.status for c in result.claims] == ["removed", "kept", "removed"]
    assert "a statement without a citation to a retrieved passage" in result.unconfirmed


def test_verifier__removes_an_invented_sku_code(shop):
    result = verify_draft(shop, "The ZZFAKE-0000-X is the same drill with 80 Nm [1].", "sku:BWK-DRL-200")

    assert result.verdict == "abstained"
    assert "ZZFAKE" not in result.answer
    assert "a SKU code that is not in the catalog for you" in result.answer


def test_verifier__removes_a_sku_the_customer_group_may_not_see(shop):
    b2b = CustomerGroup.objects.get(tenant=shop.tenant, code="b2b")  # audio only: the drill is not entitled

    result = verify_draft(shop, "SKU BWK-DRL-200: price 149.00 EUR [1].", "sku:SON-ANC-100-BLK", group=b2b)

    assert result.verdict == "abstained"
    assert "BWK-DRL-200" not in result.answer


def test_verifier__corrects_a_wrong_price_to_the_callers_price_list(shop):
    b2b = CustomerGroup.objects.get(tenant=shop.tenant, code="b2b")

    retail = verify_draft(shop, "The SON-ANC-100-BLK costs €99.00 [1].", "sku:SON-ANC-100-BLK")
    business = verify_draft(shop, "The SON-ANC-100-BLK costs €199.00 [1].", "sku:SON-ANC-100-BLK", group=b2b)

    assert retail.verdict == "corrected"
    assert retail.answer == "The SON-ANC-100-BLK costs 199.00 EUR [1]."
    assert business.answer == "The SON-ANC-100-BLK costs 159.00 EUR [1]."  # the B2B list, not retail


def test_verifier__keeps_a_right_price_in_either_notation(shop):
    result = verify_draft(shop, "It costs 199,00 € [1]. It also costs EUR 199 [1].", "sku:SON-ANC-100-BLK")

    assert result.verdict == "verified"
    assert result.answer == "It costs 199,00 € [1]. It also costs EUR 199 [1]."


def test_verifier__corrects_false_stock_claims_and_removes_ambiguous_ones(shop):
    single = verify_draft(shop, "The SON-ANC-100-WHT is in stock [1].", "sku:SON-ANC-100-WHT")
    product = verify_draft(shop, "These headphones are out of stock [1].", "product:sonora-anc#head")

    assert single.verdict == "corrected"
    assert single.answer == "The SON-ANC-100-WHT is out of stock [1]."
    assert product.verdict == "abstained"  # the black one is in stock: "out of stock" is false for the product
    assert "a stock statement that could not be confirmed" in product.unconfirmed


def test_verifier__removes_figures_the_cited_passage_does_not_hold(shop):
    result = verify_draft(
        shop, "The drill delivers 95 Nm of torque [1]. It runs on 18 V [1].", "product:boltwerk-drill#attrs"
    )

    assert result.verdict == "partial"
    assert result.answer == "It runs on 18 V [1]."
    assert "a figure that is not in the cited passages" in result.unconfirmed


def test_verifier__removes_a_policy_statement_its_citation_does_not_make(shop):
    draft = "Every product carries a lifetime warranty with free collection [1]. Orders over €49 ship free [2]."

    result = verify_draft(shop, draft, "product:sonora-anc#p1", "policy:shipping-eu")

    assert result.answer == "Orders over €49 ship free [1]."
    assert "a policy statement that the cited policy does not make" in result.unconfirmed


def test_verifier__a_policy_amount_not_in_the_policy_is_removed(shop):
    result = verify_draft(shop, "Orders over €25 ship free [1].", "policy:shipping-eu")

    assert result.verdict == "abstained"


def test_sentence_splitter__gives_the_same_sentences_streamed_word_by_word_or_whole():
    text = "It weighs 1.45 kg [1]. Approx. 5 hours, e.g. on flights [2]. Returns: 30 days.\nNext line [3]"
    splitter = SentenceSplitter()
    streamed = []
    for piece in text.split(" "):
        streamed += splitter.feed(piece + " ")
    streamed += splitter.flush()

    assert streamed == split_sentences(text)
    assert split_sentences(text)[0] == "It weighs 1.45 kg [1]."
