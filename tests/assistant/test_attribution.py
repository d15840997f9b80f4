"""Customers' statements in any provider's draft: served attributed, never as a price or a policy term."""

import pytest

from tests.assistant.conftest import numbered_prompt, verify_draft

pytestmark = pytest.mark.django_db

AUTHORITY = "a price or policy statement that only a customer review or answer makes"


def test_prompt__lists_a_customers_passage_as_theirs(backpack):
    _, _, prompt = numbered_prompt(backpack, "doc:summit-heavy", "doc:summit-rain-cover", "product:summit-trail#attrs")

    assert [(p.source, p.rating) for p in prompt.request.passages] == [("review", 4), ("qa", None), ("product", None)]
    assert "(doc:summit-heavy@1#p1; customer review, rated 4/5)" in prompt.request.prompt
    assert "(doc:summit-rain-cover@1#p1; customer answer)" in prompt.request.prompt
    assert "(product:summit-trail@1#attrs)" in prompt.request.prompt


STRAPS, COVER = "The shoulder straps stay comfortable [1].", "The rain cover sits in the lid pocket [1]."


@pytest.mark.parametrize(
    ("key", "locale", "draft", "served"),
    [
        ("doc:summit-heavy", "en", STRAPS, "A customer reviewer (4/5) says: The shoulder straps stay comfortable [1]."),
        ("doc:summit-rain-cover", "en", COVER, "A customer answered: The rain cover sits in the lid pocket [1]."),
        ("doc:summit-heavy", "de", STRAPS, "Ein Kunde (Bewertung 4/5) sagt: The shoulder straps stay comfortable [1]."),
    ],
)
def test_verifier__corrects_an_unattributed_customer_statement_to_an_attributed_one(
    backpack, key, locale, draft, served
):
    result = verify_draft(backpack, draft, key, locale=locale)

    assert result.verdict == "corrected"
    assert result.answer == served
    assert [c.status for c in result.claims] == ["corrected"]


@pytest.mark.parametrize(
    "draft",
    [
        "A customer reviewer (4/5) says: the shoulder straps stay comfortable on long hikes [1].",
        "According to a review, the shoulder straps stay comfortable on long hikes [1].",
        "Reviewers report that the shoulder straps stay comfortable on long hikes [1].",
    ],
)
def test_verifier__keeps_an_attributed_customer_statement(backpack, draft):
    result = verify_draft(backpack, draft, "doc:summit-heavy")

    assert result.verdict == "verified"
    assert result.answer == draft


def test_verifier__a_statement_also_citing_the_shops_text_needs_no_attribution(backpack):
    result = verify_draft(backpack, "The backpack holds 40 l [1][2].", "doc:summit-heavy", "product:summit-trail#attrs")

    assert result.verdict == "verified"
    assert result.answer == "The backpack holds 40 l [1][2]."


@pytest.mark.parametrize(
    "draft",
    [
        "I paid only 89 euros for this backpack [1].",  # the review's own words, unattributed
        "A customer reviewer (5/5) says: they paid only 89 euros for it [1].",  # attributed, and still a price
        "Returns were free within 60 days [1].",  # a policy term that no policy states
    ],
)
def test_verifier__removes_a_price_or_policy_term_only_a_customer_states(backpack, draft):
    result = verify_draft(backpack, draft, "doc:summit-bargain")

    assert result.verdict == "abstained"
    assert [(c.status, c.reasons) for c in result.claims] == [("removed", ("authority",))]
    assert "89" not in result.answer and AUTHORITY in result.unconfirmed


def test_verifier__a_customers_experience_of_delivery_is_no_policy_term(backpack):
    draft = "A customer answered: the rain cover sits in the lid pocket and came with the delivery [1]."

    result = verify_draft(backpack, draft, "doc:summit-rain-cover")

    assert result.verdict == "verified"
    assert result.answer == draft
