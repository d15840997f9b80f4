"""Questions about one product: /ai/v1/chat and /ai/v1/search with `product` or `sku`, the scope they answer in,
and conversations that keep their product and bind to their caller."""

import uuid
from decimal import Decimal

import pytest

from assistant.models import Conversation, ConversationTurn
from catalog import services as catalog_services
from catalog.models import Product
from governance.models import AnswerCitation, AnswerRecord, ApiKey
from knowledge.models import Chunk
from tests import factories
from tests.assistant.conftest import index_all
from tests.assistant.sse import sse_events

pytestmark = pytest.mark.django_db

CHAT, SEARCH = "/ai/v1/chat", "/ai/v1/search"


@pytest.fixture
def catalog(shop):
    """The shop plus a second pair of headphones sharing its words, and Q&A and reviews on both."""
    audio = shop.products["sonora-anc"].category
    aural = factories.product(
        shop.tenant, audio, handle="aural-quiet", title="Aural Quiet Wireless Headphones", brand="Aural",
        description="The Aural Quiet headphones are the quietest closed-back headphones we sell. The battery "
        "lasts 40 hours per charge.",
    )  # fmt: skip
    sku = factories.sku(aural, code="AUR-QT-1")
    retail = shop.tenant.price_lists.get(code="retail")
    catalog_services.price_set(price_list=retail, sku=sku, amount=Decimal("249.00"))
    catalog_services.stock_set(sku=sku, warehouse=shop.warehouse, quantity=3)
    sonora = shop.products["sonora-anc"]
    documents = [
        factories.document(shop.tenant, slug="sonora-folds", kind="qa", product=sonora, title="Does it fold?",
                           question="Do the headphones fold?", body="Yes, the Sonora ANC headphones fold flat for "
                           "travel in their case."),  # fmt: skip
        factories.document(shop.tenant, slug="aural-folds", kind="qa", product=aural, title="Does it fold?",
                           question="Do the headphones fold?", body="No, the Aural Quiet headphones do not fold "
                           "flat for travel."),  # fmt: skip
        factories.document(shop.tenant, slug="sonora-review", kind="review", product=sonora, title="Great on flights",
                           body="The noise cancelling works well on flights and the headphones fold flat."),
    ]  # fmt: skip
    index_all(products=[aural], skus=[sku], documents=documents)
    shop.products["aural-quiet"] = aural
    return shop


def _post(client, path, data, **extra):
    return client.post(path, data, format="json", **extra)


def _chat(client, **data) -> dict:
    response = _post(client, CHAT, data)
    assert response.status_code == 200, response.content
    return response.json()


def _products_cited(body) -> set:
    """The product ids of the chunks an answer cites (None: a policy or a document of no product)."""
    return set(AnswerCitation.objects.filter(answer_id=body["answer_id"]).values_list("chunk__product_id", flat=True))


def _products_retrieved(body) -> set:
    record = AnswerRecord.objects.get(pk=body["answer_id"])
    ids = [row["chunk_id"] for row in record.retrieved]
    return set(Chunk.objects.filter(pk__in=ids).values_list("product_id", flat=True))


def _policies_only(body) -> bool:
    record = AnswerRecord.objects.get(pk=body["answer_id"])
    ids = [row["chunk_id"] for row in record.retrieved]
    return not Chunk.objects.filter(pk__in=ids, product__isnull=True).exclude(source_kind="policy").exists()


# The product in question ---------------------------------------------------------------------------------------


def test_chat__a_products_question_is_answered_from_its_own_content_and_the_policies(catalog):
    sonora, aural = catalog.products["sonora-anc"], catalog.products["aural-quiet"]
    question = "How long does the battery of the wireless headphones last?"

    body = _chat(catalog.retail, question=question, product="sonora-anc")
    unscoped = _chat(catalog.retail, question=question)

    assert (body["product"], body["scope"], body["scope_reason"]) == ("sonora-anc", "product", None)
    assert body["citations"] and _products_cited(body) <= {sonora.pk, None}
    assert _products_retrieved(body) <= {sonora.pk, None} and _policies_only(body)
    assert "30 hours" in body["answer"] and "40 hours" not in body["answer"]
    assert AnswerRecord.objects.get(pk=body["answer_id"]).product == "sonora-anc"
    assert aural.pk in _products_retrieved(unscoped)  # the words overlap: without a product, both compete
    assert (unscoped["product"], unscoped["scope"]) == (None, "catalog")


def test_chat__a_sku_makes_its_product_the_context(catalog):
    body = _chat(catalog.retail, question="Do the headphones fold?", sku="SON-ANC-100-WHT")

    assert (body["product"], body["scope"]) == ("sonora-anc", "product")
    assert body["citations"] and _products_cited(body) <= {catalog.products["sonora-anc"].pk, None}
    assert "fold flat" in body["answer"] and "do not fold" not in body["answer"]


def test_chat__a_question_for_alternatives_may_reach_other_products_and_says_so(catalog):
    body = _chat(catalog.retail, question="Have you got a pair that is quieter?", product="sonora-anc")

    assert (body["product"], body["scope"]) == ("sonora-anc", "catalog")
    assert body["scope_reason"]["code"] == "comparison" and "that is quieter" in body["scope_reason"]["message"]
    assert catalog.products["aural-quiet"].pk in _products_retrieved(body)
    assert AnswerRecord.objects.get(pk=body["answer_id"]).product == "sonora-anc"


def test_search__a_product_keeps_the_results_and_summary_to_its_content_and_the_policies(catalog):
    sonora = catalog.products["sonora-anc"]

    response = _post(catalog.retail, SEARCH, {"q": "wireless headphones battery fold", "product": "sonora-anc"})

    body = response.json()
    assert response.status_code == 200, body
    assert (body["product"], body["scope"]) == ("sonora-anc", "product")
    assert body["results"] and {r["product"] for r in body["results"]} <= {"sonora-anc", None}
    assert {r["kind"] for r in body["results"] if r["product"] is None} <= {"policy"}
    assert _products_cited(body) <= {sonora.pk, None}


def test_chat__within_a_product_its_documents_are_not_capped_but_its_reviews_are(catalog):
    sonora = catalog.products["sonora-anc"]
    guides = [
        factories.document(catalog.tenant, slug=f"sonora-charging-{n}", kind="guide", product=sonora,
                           title=f"Charging guide part {n}", body=f"Charging the Sonora battery, step {n}: use the "
                           "cable in the box; the battery charge indicator glows while charging.")
        for n in range(4)
    ]  # fmt: skip
    reviews = [
        factories.document(catalog.tenant, slug=f"sonora-battery-review-{n}", kind="review", product=sonora,
                           title=f"Battery review {n}", body=f"Battery charging is quick, the charge indicator "
                           f"helps, review number {n}.")
        for n in range(6)
    ]  # fmt: skip
    index_all(documents=guides + reviews)

    body = _chat(catalog.retail, question="How does charging the battery work?", product="sonora-anc")

    record = AnswerRecord.objects.get(pk=body["answer_id"])
    documents = Chunk.objects.filter(pk__in=[row["chunk_id"] for row in record.retrieved], source_kind="doc")
    slugs = set(documents.values_list("source_key", flat=True))
    assert len(slugs & {g.slug for g in guides}) >= 3  # more than two documents of one product: its own scope
    customer = slugs & ({r.slug for r in reviews} | {"sonora-review", "sonora-folds"})
    assert 1 <= len(customer) <= 3  # customer content (reviews, Q&A) stays a minority


def test_chat__the_stream_names_the_product_and_scope_in_its_final_event(catalog):
    response = _post(
        catalog.retail, CHAT, {"question": "Do the headphones fold?", "product": "sonora-anc"},
        HTTP_ACCEPT="text/event-stream",
    )  # fmt: skip

    events = sse_events(response)
    final = events[-1][1]
    assert events[-1][0] == "final"
    assert (final["product"], final["scope"], final["abstain_reason"]) == ("sonora-anc", "product", None)
    cited = [data["citation_id"] for name, data in events if name == "citation"]
    assert cited and all(c.startswith(("doc:sonora-", "product:sonora-anc@", "sku:SON-", "policy:")) for c in cited)


# Bad input -------------------------------------------------------------------------------------------------------


def _other_tenants_sku() -> str:
    other = factories.TenantFactory(slug="elsewhere")
    sku = factories.sku(factories.product(other, handle="sonora-anc"), code="ELSE-1")
    return sku.code


@pytest.mark.parametrize(
    ("who", "payload", "status", "fields"),
    [
        ("retail", {"product": "no-such-product"}, 404, {"product"}),
        ("retail", {"sku": "NO-SUCH-SKU"}, 404, {"sku"}),
        ("retail", {"sku": "other-tenant"}, 404, {"sku"}),
        ("b2b", {"product": "boltwerk-drill"}, 404, {"product"}),  # the group may not see tools
        ("b2b", {"sku": "BWK-DRL-200"}, 404, {"sku"}),
        ("retail", {"product": "sonora-anc", "sku": "SON-ANC-100-BLK"}, 400, {"product", "sku"}),
        ("retail", {"product": "Not A Handle!"}, 400, {"product"}),
    ],
)
@pytest.mark.parametrize("path", [CHAT, SEARCH])
def test_product_context__a_product_or_sku_the_caller_cannot_name_is_refused_and_nothing_is_recorded(
    catalog, who, payload, status, fields, path
):
    if payload.get("sku") == "other-tenant":
        payload = {"sku": _other_tenants_sku()}
    text = {"question" if path == CHAT else "q": "Do the headphones fold?"}

    response = _post(getattr(catalog, who), path, {**text, **payload})

    assert response.status_code == status, response.content
    assert set(response.json()) == fields
    assert not AnswerRecord.objects.exists() and not Conversation.objects.exists()


def test_product_context__a_refusal_does_not_say_whether_the_product_exists_elsewhere(catalog):
    hidden = _post(catalog.b2b, CHAT, {"question": "Torque?", "product": "boltwerk-drill"}).json()
    missing = _post(catalog.b2b, CHAT, {"question": "Torque?", "product": "boltwerk-drill-2"}).json()

    assert hidden["product"][0].replace("boltwerk-drill", "X") == missing["product"][0].replace("boltwerk-drill-2", "X")


# Conversations ---------------------------------------------------------------------------------------------------


def test_conversation__later_turns_keep_its_product_until_another_is_named(catalog):
    first = _chat(catalog.retail, question="Do the headphones fold?", product="sonora-anc")
    cid = first["conversation_id"]

    second = _chat(catalog.retail, question="How long does the battery last?", conversation_id=cid)
    third = _chat(catalog.retail, question="Do the headphones fold?", conversation_id=cid, product="aural-quiet")
    fourth = _chat(catalog.retail, question="How long does the battery last?", conversation_id=cid)

    assert [b["product"] for b in (first, second, third, fourth)] == ["sonora-anc", "sonora-anc"] + ["aural-quiet"] * 2
    assert {b["conversation_id"] for b in (second, third, fourth)} == {cid}
    assert "30 hours" in second["answer"] and "40 hours" in fourth["answer"]
    assert _products_cited(fourth) <= {catalog.products["aural-quiet"].pk, None}
    conversation = Conversation.objects.get(pk=cid)
    assert conversation.product == catalog.products["sonora-anc"] and conversation.tenant == catalog.tenant
    assert conversation.key_lineage == ApiKey.objects.get(tenant=catalog.tenant, customer_group=None).lineage
    turns = list(conversation.turns.all())
    assert [t.product for t in turns] == ["sonora-anc", "sonora-anc", "aural-quiet", "aural-quiet"]
    assert [str(t.answer_record_id) for t in turns] == [b["answer_id"] for b in (first, second, third, fourth)]
    assert turns[1].question == "How long does the battery last?" and turns[1].answer == second["answer"]
    assert conversation.last_used_at == turns[-1].answer_record.created_at
    history = AnswerRecord.objects.get(pk=third["answer_id"]).history
    assert history[0] == {"role": "user", "content": "Do the headphones fold?"}


def test_conversation__a_product_no_longer_visible_still_scopes_the_question_and_the_answer_says_so(catalog):
    first = _chat(catalog.retail, question="Do the headphones fold?", product="sonora-anc")
    Product.objects.filter(pk=catalog.products["sonora-anc"].pk).update(is_active=False)

    body = _chat(catalog.retail, question="Do the headphones fold flat?", conversation_id=first["conversation_id"])

    assert (body["product"], body["scope"]) == ("sonora-anc", "product")
    assert body["verdict"] == "abstained" and body["abstain_reason"]["code"] == "product_unavailable"
    assert _products_retrieved(body) <= {None}  # the policies only: never the other headphones' Q&A


def test_conversation__an_abstention_says_why(catalog):
    body = _chat(catalog.retail, question="What colour is the warp drive plasma?", product="sonora-anc")

    assert body["verdict"] == "abstained"
    reason = body["abstain_reason"]
    assert reason["code"] in {"nothing_retrieved", "weak_retrieval", "unsupported", "not_answered"}
    assert "product's content" in reason["message"] or reason == {
        "code": "not_answered",
        "message": "Nothing in Sonora ANC Wireless Headphones's information answers this question.",
    }
    assert AnswerRecord.objects.get(pk=body["answer_id"]).abstain_reason == reason["code"]


def _other_callers(catalog):
    """Clients of another tenant, another lineage of the same tenant and group, and another group."""
    other = factories.TenantFactory(slug="other-shop")
    _, other_raw = factories.api_key(other)
    _, lineage_raw = factories.api_key(catalog.tenant, name="another storefront")
    return {
        "tenant": factories.api_client(other_raw),
        "lineage": factories.api_client(lineage_raw),
        "group": catalog.b2b,
    }


@pytest.mark.parametrize("who", ["tenant", "lineage", "group"])
def test_conversation__another_callers_id_is_a_404_that_does_not_reveal_it(catalog, who):
    first = _chat(catalog.retail, question="Do the headphones fold?", product="sonora-anc")
    stranger = _other_callers(catalog)[who]
    records, turns = AnswerRecord.objects.count(), ConversationTurn.objects.count()
    unknown = str(uuid.uuid4())

    taken = _post(stranger, CHAT, {"question": "And the battery?", "conversation_id": first["conversation_id"]})
    never = _post(stranger, CHAT, {"question": "And the battery?", "conversation_id": unknown})

    assert taken.status_code == never.status_code == 404
    assert set(taken.json()) == {"conversation_id"}
    assert (
        taken.json()["conversation_id"][0].replace(first["conversation_id"], unknown)
        == never.json()["conversation_id"][0]
    )
    assert (AnswerRecord.objects.count(), ConversationTurn.objects.count()) == (records, turns)


def test_conversation__staff_sessions_continue_staff_conversations_only(catalog, client):
    client.force_login(factories.staff_editor())
    url = f"{CHAT}?tenant={catalog.tenant.slug}"
    staff = client.post(url, {"question": "Do the headphones fold?", "product": "sonora-anc"}, "application/json")
    keyed = _chat(catalog.retail, question="Do the headphones fold?")

    again = client.post(url, {"question": "And the battery?", "conversation_id": staff.json()["conversation_id"]},
                        "application/json")  # fmt: skip
    crossed = client.post(url, {"question": "And the battery?", "conversation_id": keyed["conversation_id"]},
                          "application/json")  # fmt: skip
    by_key = _post(catalog.retail, CHAT, {"question": "And?", "conversation_id": staff.json()["conversation_id"]})

    assert staff.status_code == again.status_code == 200 and again.json()["product"] == "sonora-anc"
    assert crossed.status_code == by_key.status_code == 404
    assert Conversation.objects.get(pk=staff.json()["conversation_id"]).key_lineage is None
