"""Where a question about one product may look: the comparison cue, on phrasings the detector does not list."""

import pytest

from assistant.pipeline.scope import comparison_cue, scope_for
from assistant.pipeline.types import Ask, ProductContext

ASKS_FOR_OTHERS = [
    "Do you sell anything a little quieter?",
    "Got any cheaper ones?",
    "I need a lighter version for travelling",
    "Would the Studio be better than this one?",
    "What are the alternatives?",
    "How does this stack up compared with the Aural model?",
    "Which other models do you carry?",
    "Is there a pair that is more comfortable?",
    "Something bigger, maybe?",
    "Is there an equivalent from another brand?",
    "Anything similar?",
    "Is it heavier than the Boltwerk?",
    "Gibt es eine günstigere Alternative?",
    "Ist das Studio leiser als dieses?",
    "Habt ihr etwas Kleineres?",
]
ABOUT_THIS_ONE = [
    "How heavy is it?",
    "Does the battery last longer than 24 hours?",
    "Is the noise cancelling better than 30 dB?",
    "Is a carrying case included?",
    "Does it charge faster with a USB-C charger?",
    "Will a newer firmware fix the pairing?",
    "Can other customers see my review?",
    "Do the reviews say the sound is better after an update?",
    "Was the price higher yesterday?",
    "Does it work with phones other than Android ones?",
    "Is the white one more expensive?",
    "Does the speaker get louder when plugged in?",
    "Do owners report similar battery problems?",
    "Is there anything more I need to pair it?",
    "Is it as fun for 2 than it is for more?",
    "Is it quieter than it used to be after the update?",
    "Is the case sturdier than this was last year?",
    "Hält der Akku länger als 20 Stunden?",
    "Wie schwer ist der Lautsprecher?",
    "Ist der Akkuschrauber leiser im Eco-Modus?",
]


@pytest.mark.parametrize("question", ASKS_FOR_OTHERS)
def test_comparison_cue__a_question_for_alternatives_or_a_comparison_has_one(question):
    cue = comparison_cue(question)

    assert cue and cue in question  # the cue is the question's own words, quoted in the scope's reason


@pytest.mark.parametrize("question", ABOUT_THIS_ONE)
def test_comparison_cue__a_question_about_the_product_itself_has_none(question):
    assert comparison_cue(question) is None


def test_scope_for__a_product_question_keeps_to_the_product_unless_it_compares():
    context = ProductContext("sonora-anc", 7, "Sonora ANC Wireless Headphones")

    own = scope_for(Ask("chat", "Does it fold?", context=context), "Does it fold?")
    other = scope_for(Ask("chat", "Any quieter ones?", context=context), "Any quieter ones?")
    gone = scope_for(Ask("chat", "Does it fold?", context=ProductContext("sonora-anc", None)), "Does it fold?")
    plain = scope_for(Ask("chat", "Does it fold?"), "Does it fold?")

    assert (own.kind, own.product, own.reason, own.available) == ("product", "sonora-anc", None, True)
    assert (other.kind, other.product, other.reason[0]) == ("catalog", "sonora-anc", "comparison")
    assert "quieter ones" in other.reason[1]
    assert (gone.kind, gone.available) == ("product", False)
    assert (plain.kind, plain.product) == ("catalog", None)
