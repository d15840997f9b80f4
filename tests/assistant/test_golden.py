"""Golden questions on the (reduced) demo catalog: each answer must cite what it must, state what it must,
and every price in it must be the caller's price. Unanswerable questions must abstain."""

import re
from decimal import Decimal

import pytest

from assistant.pipeline.claims import prices_in
from catalog.models import Price
from catalog.selectors import price_lists_for
from core.tenancy import Caller
from governance.models import ApiKey, hash_key
from tests import factories

pytestmark = pytest.mark.django_db

# (key, question, citations of which at least one must be cited (prefixes), texts the answer must contain)
GOLDEN = [
    # specifications
    ("acme", "What is the battery life of the Sonora Studio 410 Max headphones?",
     ["product:sonora-studio-410-max-hph0001@", "doc:manual-sonora-studio-410-max-hph0001@"], ["40"]),
    ("acme", "How heavy is the Orbi Slate 120 Pro tablet?", ["product:orbi-slate-120-pro-tab0001@"], ["559"]),
    # a SKU's spec chunk states its product's specs too (the product's title, then its own values)
    ("acme", "What refresh rate does the Lumora Arc 520 monitor have?",
     ["product:lumora-arc-520-mon0001@", "sku:ACME-MON0001-"], ["60"]),
    ("acme", "Which panel does the Vistaro Cinema 580 Lite TV use?",  # "Panel: QLED" is in its manual's specs too
     ["product:vistaro-cinema-580-lite-tv0001@", "sku:ACME-TV0001-", "doc:manual-vistaro-cinema-580-lite-tv0001@"],
     ["QLED"]),
    ("acme", "What is the PEGI rating of Kingdoms of Ash Deluxe?",
     ["product:red-fern-games-kingdoms-of-ash-deluxe-gam0001@"], ["PEGI 3"]),
    ("acme", "Does the Orbi Edge 480 Plus smartphone support 5G?", ["product:orbi-edge-480-plus-phn0001@"], ["5G"]),
    ("acme", "What is the water tank capacity of the Brühwerk Barista 610 Max?",
     ["product:bruhwerk-barista-610-max-cof0001@", "doc:manual-bruhwerk-barista-610-max-cof0001@"], ["1.2"]),
    ("acme", "What CPU does the Lumora Zenith 320 Pro laptop have?",
     ["product:lumora-zenith-320-pro-lap0001@", "sku:ACME-LAP0001-"], ["Cpu: Qualcomm Snapdragon X Plus"]),
    ("acme", "What is the output power of the Brennan Audio Rover 560 speaker?",
     ["product:brennan-audio-rover-560-max-spk0001@"], ["10"]),
    ("acme", "What is the suction power of the Nordhaus Aero 610 Lite vacuum?",
     ["product:nordhaus-aero-610-lite-vac0001@", "doc:manual-nordhaus-aero-610-lite-vac0001@"], ["150"]),
    ("acme", "How much storage does the Nightjar Arcadia 280 console have?", ["product:nightjar-arcadia-280-con0001@"],
     ["512"]),
    ("acme", "What steel is the Stahlberg Classic chef's knife made of?",
     ["product:stahlberg-classic-510-max-knf0001@"], ["AUS-8"]),
    ("trade", "What torque does the Boltwerk Pro DX 200 Max drill have?",
     ["product:boltwerk-pro-dx-200-max-drl0001@"], ["80"]),
    ("trade", "What is the cut depth of the Kaltwerk HKS 260 Max circular saw?",
     ["product:kaltwerk-hks-260-max-saw0001@", "doc:manual-kaltwerk-hks-260-max-saw0001@"], ["65"]),
    ("trade", "Is the Kaltwerk Multi Lubricant Spray flammable?",
     ["product:kaltwerk-multi-760-lub0001@", "doc:guide-kaltwerk-multi-760-lub0001@"], ["flammable"]),
    ("facilities", "What is the SNR of the Safeguard Silence 500 hearing protection?",
     ["product:safeguard-silence-500-ear0001@"], ["27"]),
    ("facilities", "What is the load capacity of the Ferrox Heavy anchor?", ["product:ferrox-heavy-200-pro-anc0001@"],
     ["6.0"]),
    # compatibility
    ("trade", "Which battery fits the Boltwerk Pro DX 200 Max?", ["product:boltwerk-pro-dx-200-max-drl0001@"],
     ["18 V platform"]),
    ("acme", "How many HDMI 2.1 ports does the Vistaro Cinema 580 Lite TV have?",
     ["product:vistaro-cinema-580-lite-tv0001@", "doc:manual-vistaro-cinema-580-lite-tv0001@"], ["2 HDMI 2.1"]),
    # warranty
    ("acme", "How long is the warranty on the Sonora Studio 410 Max headphones?",
     ["doc:warranty-sonora-studio-410-max-hph0001@"], ["24 months"]),
    ("trade", "What is the warranty on the Boltwerk Pro DX 200 Max?",
     ["doc:warranty-boltwerk-pro-dx-200-max-drl0001@"], ["12 months"]),
    # returns
    ("acme", "How many days do I have to return an item in the EU?", ["policy:returns-eu@2#"], ["30 days"]),
    ("acme", "How long does a refund take in the UK?", ["policy:returns-uk@1#"], ["14 days"]),
    ("acme", "Can I return in-ear headphones after opening them?", ["policy:returns-"], ["hygiene items"]),
    ("trade", "What is the restocking fee for trade returns in the EU?", ["policy:returns-eu@2#"], ["10%"]),
    # shipping
    ("acme", "What does standard shipping cost in the EU?", ["policy:shipping-eu@1#"], ["€4.95"]),
    ("acme", "What does express shipping cost in the EU?", ["policy:shipping-eu@1#"], ["€9.95"]),
    ("acme", "From what order value is shipping free in the UK?", ["policy:shipping-uk@2#"], ["£35"]),
    ("trade", "From what order value is shipping free for trade customers in the UK?", ["policy:shipping-uk@2#"],
     ["£150"]),
    # prices and B2B price lists (every price in the answer is also checked against the caller's lists)
    ("acme", "How much does the Lumora AirBook 550 Lite laptop cost?", ["product:lumora-airbook-550-lite-lap0002@"],
     ["ACME-LAP0002-16-256-SG"]),
    ("education", "How much does the Lumora AirBook 550 Lite laptop cost?",
     ["product:lumora-airbook-550-lite-lap0002@"], ["ACME-LAP0002-16-256-SG"]),
    ("trade", "How much does the Boltwerk Pro DX 200 Max drill cost?", ["product:boltwerk-pro-dx-200-max-drl0001@"],
     ["BWK-DRL0001-4"]),
    ("facilities", "How much does the Safeguard Silence 500 hearing protection cost?",
     ["product:safeguard-silence-500-ear0001@", "sku:BWK-EAR0001@"], ["BWK-EAR0001"]),
    # stock
    ("acme", "Is the ACME-HPH0001-SAN in stock?", ["sku:ACME-HPH0001-SAN@"], ["ACME-HPH0001-SAN"]),
    ("trade", "Is the BWK-SAW0001 in stock?", ["sku:BWK-SAW0001@"], ["BWK-SAW0001"]),
    # German
    ("acme", "Wie lange habe ich Zeit, einen Artikel zurückzugeben?", ["policy:returns-de@1#"], []),
    ("acme", "Wie lange ist die Garantie in Deutschland?", ["policy:warranty-de@1#"], ["Garantie"]),
    ("acme", "Welche Artikel sind von der Rückgabe ausgeschlossen?", ["policy:returns-de@1#"],
     ["In-Ear-Kopfhörer"]),
    ("trade", "Welches Drehmoment hat der Boltwerk Pro DX 200 Max?",
     ["doc:manual-de-boltwerk-pro-dx-200-max-drl0001@", "product:boltwerk-pro-dx-200-max-drl0001@1#de"], ["80 Nm"]),
    ("acme", "Wie schwer ist das Orbi Slate 120 Pro Tablet?",
     ["product:orbi-slate-120-pro-tab0001@", "sku:ACME-TAB0001-"], ["Weight: 559 g"]),
]  # fmt: skip

UNANSWERABLE = [
    ("acme", "Do you sell hoverboards?"),
    ("acme", "What is the return policy in Australia?"),
    ("acme", "How much does the Lumora AirBook 9000 cost?"),
    ("acme", "Do you ship to Mars?"),
    ("acme", "What is the battery life of the Sonora Studio 999 headphones?"),
    ("acme", "Is the ACME-ZZZ9999 in stock?"),
    ("acme", "Can I pay with Bitcoin?"),
    ("acme", "Who won the football world cup in 2014?"),
    ("acme", "What is the return window in Canada?"),
    ("education", "How much does the Brühwerk Barista 610 Max cost?"),  # exists, outside the group's categories
    ("education", "What is the water tank capacity of the Brühwerk Barista 610 Max?"),
    ("facilities", "What is the cut depth of the Kaltwerk HKS 260 Max circular saw?"),
    ("trade", "What is the warranty in Japan?"),
    ("trade", "Do you sell Sonora Studio headphones?"),  # another tenant's product
    ("trade", "What is the price of ACME-HPH0001-SAN?"),  # another tenant's SKU
]


def _ask(demo_catalog, key: str, question: str) -> dict:
    response = factories.api_client(demo_catalog[key]).post("/ai/v1/chat", {"question": question}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _caller(raw_key: str) -> Caller:
    key = ApiKey.objects.select_related("tenant", "customer_group").get(key_hash=hash_key(raw_key))
    return Caller.of(key.tenant, key.customer_group, key)


def _assert_prices_are_the_callers(demo_catalog, key: str, answer: str) -> None:
    """Every price next to a SKU code is the caller's (a price without one is a policy amount, checked by the
    verifier against the cited policy)."""
    lists = price_lists_for(caller=_caller(demo_catalog[key]))
    for sentence in re.split(r"(?<=\])\.\s*", answer):
        codes = re.findall(r"\b[A-Z]+-[A-Z0-9-]+\d[A-Z0-9-]*\b", sentence)
        for mention in prices_in(sentence) if codes else ():
            allowed = set(
                Price.objects.filter(
                    price_list__in=lists, sku__code__in=codes, price_list__currency=mention.currency
                ).values_list("amount", flat=True)
            )
            assert Decimal(mention.amount) in allowed, f"{mention.amount} is not the caller's price in {sentence!r}"


@pytest.mark.parametrize(("key", "question", "citations", "texts"), GOLDEN, ids=[q for _, q, _, _ in GOLDEN])
def test_golden__answers_cite_and_state_the_catalog(demo_catalog, key, question, citations, texts):
    body = _ask(demo_catalog, key, question)

    cited = [c["citation_id"] for c in body["citations"]]
    assert body["verdict"] in ("verified", "corrected", "partial"), body
    assert any(c.startswith(prefix) for c in cited for prefix in citations), (cited, body["answer"])
    for text in texts:
        assert text in body["answer"], body["answer"]
    assert set(re.findall(r"\[(\d+)\]", body["answer"])) == {str(c["number"]) for c in body["citations"]}
    _assert_prices_are_the_callers(demo_catalog, key, body["answer"])


def test_golden__there_are_at_least_forty_questions_and_fifteen_unanswerable():
    assert len(GOLDEN) >= 40 and len(UNANSWERABLE) >= 15


@pytest.mark.parametrize(("key", "question"), UNANSWERABLE, ids=[q for _, q in UNANSWERABLE])
def test_golden__questions_the_catalog_cannot_answer_abstain(demo_catalog, key, question):
    body = _ask(demo_catalog, key, question)

    assert body["verdict"] == "abstained", body["answer"]
    assert body["citations"] == []
    assert "confirm" in body["answer"] or "bestätigen" in body["answer"]


def test_golden__a_b2b_price_list_gives_other_prices_than_retail(demo_catalog):
    question = "How much does the Lumora AirBook 550 Lite laptop cost?"

    retail = _ask(demo_catalog, "acme", question)["answer"]
    education = _ask(demo_catalog, "education", question)["answer"]

    retail_prices = {m.amount for m in prices_in(retail)}
    education_prices = {m.amount for m in prices_in(education)}
    assert retail_prices and education_prices and not retail_prices & education_prices
