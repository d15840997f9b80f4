"""The storefront content API: /api/v1/policies/ and /api/v1/documents/."""

from dataclasses import dataclass

import pytest

from core.tenancy import Caller
from knowledge.api.content import DocumentListApi, PolicyListApi
from knowledge.models import Policy
from knowledge.selectors import document_list, policy_list
from knowledge.services.policies import policy_update
from tests import factories

pytestmark = pytest.mark.django_db

POLICIES, DOCUMENTS = "/api/v1/policies/", "/api/v1/documents/"


@dataclass
class Content:
    tenant: object
    returns_eu: Policy
    retail_client: object
    b2b_client: object


@pytest.fixture
def content():
    """Three policies (returns-eu at version 2) and documents tied to no product, to products and to none."""
    tenant = factories.TenantFactory(slug="acme")
    audio = factories.CategoryFactory(tenant=tenant, slug="audio")
    kitchen = factories.CategoryFactory(tenant=tenant, slug="kitchen")
    b2b = factories.CustomerGroupFactory(tenant=tenant, code="b2b", all_categories=False)
    b2b.categories.set([audio])
    speaker = factories.product(tenant, audio, handle="speaker", title="Speaker")
    kettle = factories.product(tenant, kitchen, handle="kettle", title="Kettle")
    retired = factories.product(tenant, audio, handle="retired", title="Retired radio", is_active=False)

    returns_eu = factories.policy(
        tenant, slug="returns-eu", kind="returns", region="EU", title="Returns", body="14 days."
    )
    returns_eu = policy_update(returns_eu, title="Returns (EU)", body="30 days, free of charge.")
    factories.policy(tenant, slug="warranty-us", kind="warranty", region="US", title="Warranty", body="One year.")
    factories.policy(
        tenant, slug="returns-de", kind="returns", region="DE", locale="de", title="Rückgabe", body="30 Tage."
    )

    factories.document(tenant, slug="care-guide", kind="guide", title="Care guide", body="Dust weekly.")
    factories.document(tenant, slug="speaker-manual", kind="manual", title="Speaker manual", product=speaker)
    factories.document(tenant, slug="kettle-manual", kind="manual", title="Kettle manual", product=kettle)
    factories.document(tenant, slug="radio-review", kind="review", title="Radio review", product=retired, rating=4)
    factories.document(tenant, slug="pflege", kind="guide", locale="de", title="Pflegeanleitung", body="Abstauben.")

    _, retail_raw = factories.api_key(tenant)
    _, b2b_raw = factories.api_key(tenant, b2b)
    return Content(tenant, returns_eu, factories.api_client(retail_raw), factories.api_client(b2b_raw))


def _slugs(response):
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


# Policies ---------------------------------------------------------------------------------------------------


def test_policy_list__shows_the_current_published_version(content):
    response = content.retail_client.get(POLICIES)

    assert _slugs(response) == ["returns-de", "returns-eu", "warranty-us"]
    row = response.json()["results"][1]
    assert (row["title"], row["version"], row["region"], row["locale"]) == ("Returns (EU)", 2, "EU", "en")
    assert "body" not in row


def test_policy_list__an_unpublished_working_copy_is_not_shown(content):
    Policy.objects.filter(pk=content.returns_eu.pk).update(title="Draft title", body="Draft body")

    row = content.retail_client.get(POLICIES, {"region": "eu"}).json()["results"][0]
    detail = content.retail_client.get(f"{POLICIES}returns-eu/").json()

    assert row["title"] == detail["title"] == "Returns (EU)"
    assert detail["body"] == "30 days, free of charge."


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "warranty"}, ["warranty-us"]),
        ({"kind": "returns"}, ["returns-de", "returns-eu"]),
        ({"region": "eu"}, ["returns-eu"]),
        ({"locale": "de"}, ["returns-de"]),
        ({"kind": "returns", "locale": "en"}, ["returns-eu"]),
        ({"kind": "privacy"}, []),
    ],
)
def test_policy_list__filters(content, params, expected):
    assert _slugs(content.retail_client.get(POLICIES, params)) == expected


def test_policy_detail__shows_current_version_and_every_version(content):
    body = content.retail_client.get(f"{POLICIES}returns-eu/").json()

    assert (body["version"], body["body"]) == (2, "30 days, free of charge.")
    assert [(v["number"], v["title"]) for v in body["versions"]] == [(2, "Returns (EU)"), (1, "Returns")]
    assert all("body" not in v for v in body["versions"])


def test_policy_version__returns_an_old_version(content):
    old = content.retail_client.get(f"{POLICIES}returns-eu/versions/1/").json()
    current = content.retail_client.get(f"{POLICIES}returns-eu/versions/2/").json()

    assert (old["policy"], old["number"], old["body"], old["is_current"]) == ("returns-eu", 1, "14 days.", False)
    assert (current["number"], current["is_current"]) == (2, True)


@pytest.mark.parametrize(
    "path",
    [
        "no-such-policy/",
        "returns-eu/versions/3/",
        "returns-eu/versions/0/",
        "returns-eu/versions/99999999999999999999999/",
        "no-such-policy/versions/1/",
        "%ff%fe/",
        "a%00b/versions/1/",
    ],
)
def test_policy__unknown_slug_or_version_is_404_with_message(content, path):
    response = content.retail_client.get(f"{POLICIES}{path}")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("No policy")


# Documents --------------------------------------------------------------------------------------------------


def test_document_list__lists_without_bodies(content):
    response = content.retail_client.get(DOCUMENTS)

    assert _slugs(response) == ["care-guide", "pflege", "kettle-manual", "speaker-manual"]  # by kind, then title
    rows = {row["slug"]: row for row in response.json()["results"]}
    assert all("body" not in row for row in rows.values())
    assert rows["speaker-manual"]["product"] == {"handle": "speaker", "title": "Speaker"}
    assert rows["care-guide"]["product"] is None


def test_document_detail__includes_the_body(content):
    body = content.retail_client.get(f"{DOCUMENTS}care-guide/").json()

    assert (body["title"], body["body"], body["version"]) == ("Care guide", "Dust weekly.", 1)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "manual"}, ["kettle-manual", "speaker-manual"]),
        ({"product": "speaker"}, ["speaker-manual"]),
        ({"locale": "de"}, ["pflege"]),
        ({"kind": "review"}, []),  # its product is inactive
        ({"product": "no-such-product"}, []),
    ],
)
def test_document_list__filters(content, params, expected):
    assert _slugs(content.retail_client.get(DOCUMENTS, params)) == expected


def test_document__entitlement_hides_documents_of_products_outside_the_group(content):
    assert _slugs(content.b2b_client.get(DOCUMENTS)) == ["care-guide", "pflege", "speaker-manual"]
    assert _slugs(content.b2b_client.get(DOCUMENTS, {"product": "kettle"})) == []
    response = content.b2b_client.get(f"{DOCUMENTS}kettle-manual/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No document 'kettle-manual'."}


def test_document__of_an_inactive_product_is_hidden_except_from_staff(content, admin_client):
    assert content.retail_client.get(f"{DOCUMENTS}radio-review/").status_code == 404

    response = admin_client.get(f"{DOCUMENTS}radio-review/", {"tenant": "acme"})

    assert response.status_code == 200 and response.json()["rating"] == 4


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (POLICIES, {"kind": "refunds"}, "kind"),
        (POLICIES, {"locale": "fr"}, "locale"),
        (POLICIES, {"region": "E" * 200}, "region"),
        (POLICIES, {"page_size": "100000"}, "page_size"),
        (DOCUMENTS, {"kind": "poem"}, "kind"),
        (DOCUMENTS, {"product": "x" * 1000}, "product"),
        (DOCUMENTS, {"product": "x\x00"}, "product"),
        (DOCUMENTS, {"page": "0"}, "page"),
    ],
)
def test_bad_input__is_a_400_naming_the_parameter(content, url, params, field):
    response = content.retail_client.get(url, params)

    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize("url", [f"{POLICIES}?region=%ff%fe", f"{DOCUMENTS}?product=%ff%fe", f"{DOCUMENTS}%ff%fe/"])
def test_bad_input__invalid_utf8_is_not_a_500(content, url):
    assert content.retail_client.get(url).status_code in (200, 404)


# Queries ----------------------------------------------------------------------------------------------------


def _content_of(size: int) -> Caller:
    tenant = factories.TenantFactory()
    category = factories.CategoryFactory(tenant=tenant)
    group = factories.CustomerGroupFactory(tenant=tenant, all_categories=False)
    group.categories.set([category])
    for _ in range(size):
        policy = factories.policy(tenant)
        policy_update(policy, body="A second version.")
        factories.document(tenant, product=factories.product(tenant, category))
    return Caller.of(tenant, group)


@pytest.mark.parametrize("size", [2, 6])
def test_content_lists__query_count_does_not_grow_with_the_page(size, django_assert_num_queries):
    caller = _content_of(size)

    with django_assert_num_queries(1):
        policies = PolicyListApi.OutputSerializer(policy_list(caller=caller, filters={"kind": "returns"}), many=True)
        assert len(policies.data) == size
    with django_assert_num_queries(1):
        documents = DocumentListApi.OutputSerializer(document_list(caller=caller), many=True)
        assert len(documents.data) == size and all(d["product"] for d in documents.data)


# Tenant isolation -------------------------------------------------------------------------------------------


def test_tenant_isolation__no_content_endpoint_returns_another_tenants_rows():
    a, b = factories.TenantFactory(slug="tenant-a"), factories.TenantFactory(slug="tenant-b")
    for tenant in (a, b):
        name = tenant.slug[-1]
        product = factories.product(tenant, handle="shared", title=f"Shared {name}")
        factories.policy(tenant, slug="returns", region="EU", title=f"Returns {name}", body=f"Body {name}")
        factories.policy(tenant, slug=f"only-{name}", kind="privacy", region="EU", title=f"Privacy {name}")
        factories.document(tenant, slug="manual", kind="manual", title=f"Manual {name}", body=f"Text {name}")
        factories.document(tenant, slug=f"only-{name}", kind="guide", title=f"Guide {name}", product=product)
    _, raw = factories.api_key(a)
    client = factories.api_client(raw)

    assert _slugs(client.get(POLICIES)) == ["only-a", "returns"]
    assert _slugs(client.get(POLICIES, {"kind": "privacy"})) == ["only-a"]
    assert client.get(f"{POLICIES}returns/").json()["body"] == "Body a"
    assert client.get(f"{POLICIES}returns/versions/1/").json()["body"] == "Body a"
    assert client.get(f"{POLICIES}only-b/").status_code == 404
    assert client.get(f"{POLICIES}only-b/versions/1/").status_code == 404
    assert _slugs(client.get(DOCUMENTS)) == ["only-a", "manual"]
    assert _slugs(client.get(DOCUMENTS, {"product": "shared"})) == ["only-a"]
    assert client.get(f"{DOCUMENTS}manual/").json()["body"] == "Text a"
    assert client.get(f"{DOCUMENTS}only-b/").status_code == 404
