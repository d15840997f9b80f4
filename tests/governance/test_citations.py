"""GET /api/v1/citations/<id>: the exact chunk version an answer cited, after edits and deletes, per tenant."""

from urllib.parse import quote

import pytest

from knowledge.models import Chunk
from knowledge.services.policies import policy_delete, policy_update
from tests import factories
from tests.assistant.conftest import index_all

pytestmark = pytest.mark.django_db

QUESTION = {"question": "How long do I have to return an item?"}


def _cited(shop) -> dict:
    body = shop.retail.post("/ai/v1/chat", QUESTION, format="json").json()
    assert body["citations"], body
    return {**body["citations"][0], "answer_id": body["answer_id"]}


def test_citation_api__resolves_the_cited_chunk(shop):
    cited = _cited(shop)

    response = shop.retail.get(cited["url"])

    assert response.status_code == 200
    body = response.json()
    assert body["citation_id"] == cited["citation_id"] == "policy:returns-eu@1#c1"
    assert "within 30 days" in body["text"]
    assert body["is_current"] and body["source_exists"] and body["answer_id"] == cited["answer_id"]


def test_citation_api__still_resolves_to_the_old_version_after_an_edit(shop):
    cited = _cited(shop)
    policy = shop.policies["returns-eu"]

    policy_update(policy, body=policy.current_version.body.replace("30 days", "60 days"))
    index_all(policies=[policy])

    old = shop.retail.get(cited["url"]).json()
    assert "within 30 days" in old["text"] and old["retired_at"] and not old["is_current"]
    new = _cited(shop)
    assert new["citation_id"].startswith("policy:returns-eu@2#")
    assert "within 60 days" in shop.retail.get(new["url"]).json()["text"]


def test_citation_api__still_resolves_after_the_source_is_deleted(shop):
    cited = _cited(shop)

    policy_delete(shop.policies["returns-eu"])

    response = shop.retail.get(cited["url"])
    assert response.status_code == 200
    body = response.json()
    assert "within 30 days" in body["text"] and not body["source_exists"] and not body["is_current"]
    without_answer = shop.retail.get(cited["url"].split("?")[0])
    assert without_answer.status_code == 200


def test_citation_api__another_tenant_gets_a_404(shop):
    cited = _cited(shop)
    _, raw = factories.api_key(factories.TenantFactory())

    assert factories.api_client(raw).get(cited["url"]).status_code == 404
    assert factories.api_client(raw).get(cited["url"].split("?")[0]).status_code == 404


def test_citation_api__a_group_cannot_read_a_chunk_outside_its_categories(shop):
    chunk = Chunk.objects.get(source_kind="product", source_key="boltwerk-drill", anchor="attrs")
    url = "/api/v1/citations/" + quote(chunk.citation_id, safe=":@")

    assert shop.retail.get(url).status_code == 200
    assert shop.b2b.get(url).status_code == 404  # the B2B group sees audio only


def test_citation_api__an_answer_that_did_not_cite_it_does_not_resolve_it(shop):
    cited = _cited(shop)
    other = shop.retail.post("/ai/v1/chat", {"question": "What is the torque of the Boltwerk drill?"}, format="json")

    url = cited["url"].split("?")[0] + f"?answer={other.json()['answer_id']}"
    assert shop.retail.get(url).status_code == 404


@pytest.mark.parametrize(
    ("citation_id", "status"),
    [("nonsense", 404), ("policy:returns-eu@x#c1", 404), ("movie:x@1#a", 404), ("policy:returns-eu@1%23zz", 404)],
)
def test_citation_api__malformed_or_unknown_ids_are_404s(shop, citation_id, status):
    assert shop.retail.get(f"/api/v1/citations/{citation_id}").status_code == status


def test_citation_api__a_bad_answer_id_is_a_400(shop):
    response = shop.retail.get("/api/v1/citations/policy:returns-eu@1%23c1?answer=nope")

    assert response.status_code == 400 and "answer" in response.json()
