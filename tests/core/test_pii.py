"""PII detection over a deterministic corpus of 240 shopper messages with planted values, and clean catalog text."""

from collections import Counter

import pytest

from core.pii import Kind, pii_find
from tests.governance.pii_corpus import clean_corpus, planted_corpus

RECALL_FLOOR = 0.95  # per kind; the corpus measures 1.0 for each today (README → PII)


def test_pii_find__recall_on_the_planted_corpus_per_kind():
    corpus = planted_corpus()
    found, planted = Counter(), Counter()

    for text, values in corpus:
        spans = {(s.kind, s.value) for s in pii_find(text)}
        for kind, value in values:
            planted[kind] += 1
            found[kind] += (kind, value) in spans

    assert len(corpus) >= 200
    assert set(planted) == {Kind.EMAIL, Kind.PHONE, Kind.CARD, Kind.IBAN, Kind.ADDRESS, Kind.NAME}
    recall = {kind: found[kind] / planted[kind] for kind in planted}
    assert all(r >= RECALL_FLOOR for r in recall.values()), recall


def test_pii_find__finds_nothing_beyond_the_planted_values():
    extra = [
        (s.kind, s.value)
        for text, values in planted_corpus()
        for s in pii_find(text)
        if (s.kind, s.value) not in set(values)
    ]

    assert extra == []


def test_pii_find__no_false_positive_on_skus_prices_citations_eans_and_order_numbers():
    flagged = [(text, pii_find(text)) for text in clean_corpus()]

    assert [(text, spans) for text, spans in flagged if spans] == []


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "IBAN DE89 3704 0044 0532 0130 01",  # mod-97 fails
        "SKU ACME-LT0001-16-SG at 1.299,00 €",
        "see sku:BW-DR0001-18V@3#spec and policy:returns-eu@2#c1",
        "order 4155552671 shipped",  # a bare digit run: an order number as often as a phone number
        "EAN 4006381333931",
    ],
)
def test_pii_find__checksums_and_codes_are_not_pii(text):
    assert pii_find(text) == []


def test_pii_find__checked_values_are_found_with_their_kind():
    text = "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, call +49 30 1234567, mail a.b@example.com"

    assert [(s.kind, s.value) for s in pii_find(text)] == [
        (Kind.CARD, "4111 1111 1111 1111"),
        (Kind.IBAN, "DE89 3704 0044 0532 0130 00"),
        (Kind.PHONE, "+49 30 1234567"),
        (Kind.EMAIL, "a.b@example.com"),
    ]


def test_pii_find__names_only_where_the_text_introduces_one():
    introduced = pii_find("Kind regards, Anna Schmidt")
    bare = pii_find("Anna Schmidt liked the Sonora ANC headphones.")

    assert [(s.kind, s.value) for s in introduced] == [(Kind.NAME, "Anna Schmidt")]
    assert bare == []  # without an NER model a bare name is not recognised (README → PII)


# Logs ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def console():
    """The configured console handler (settings.LOGGING, RedactingFilter included), writing into a buffer."""
    import io
    import logging

    from config.logfilters import RedactingFilter

    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactingFilter) for f in h.filters))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_log_filter__no_planted_value_or_secret_reaches_the_log(console, settings):
    import logging

    from django.conf import settings as live

    logger = logging.getLogger("governance.test")
    planted = [value for _, values in planted_corpus()[:60] for _, value in values]
    secrets = [
        "ck_demo0001_acme-retail-demo-key",
        "sk-live-0123456789abcdefABCDEF",
        live.PII_VAULT_KEY,
        "llm-secret-key-42xyz",
    ]
    settings.LLM_API_KEY = "llm-secret-key-42xyz"

    for text, _ in planted_corpus()[:60]:
        logger.warning("shopper asked: %s", text)
    logger.warning("headers %s", {"Authorization": "Api-Key ck_demo0001_acme-retail-demo-key"})
    logger.warning("calling with key %s and vault %s", "sk-live-0123456789abcdefABCDEF", live.PII_VAULT_KEY)
    logger.warning("provider key %s", "llm-secret-key-42xyz")
    try:
        raise ValueError("card 4111 1111 1111 1111 rejected for jo@example.com")
    except ValueError:
        logger.exception("payment failed")

    written = console.getvalue()
    assert written.count("shopper asked") == 60 and "payment failed" in written and "ValueError" in written
    assert [v for v in planted if v in written] == []
    assert [s for s in secrets if s in written] == []
    assert "4111 1111 1111 1111" not in written and "jo@example.com" not in written
    assert "[EMAIL]" in written and "[SECRET]" in written
