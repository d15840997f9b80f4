"""`Authorization: Api-Key <key>` and staff sessions: who may call the storefront API, and as which tenant."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import ApiKey
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


@pytest.fixture
def tenant():
    tenant = factories.TenantFactory(slug="acme")
    factories.product(tenant, handle="lamp", title="Lamp")
    return tenant


def _client(authorization: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def test_api_key__valid_key_reads_its_tenant_and_stamps_last_used(tenant):
    key, raw = factories.api_key(tenant)

    response = factories.api_client(raw).get(URL)

    assert response.status_code == 200
    assert [r["handle"] for r in response.json()["results"]] == ["lamp"]
    key.refresh_from_db()
    assert key.last_used_at is not None and timezone.now() - key.last_used_at < timedelta(minutes=1)


def test_api_key__keyword_is_case_insensitive(tenant):
    _, raw = factories.api_key(tenant)

    assert _client(f"api-key {raw}").get(URL).status_code == 200


def test_api_key__missing_is_401_with_the_api_key_hint(tenant):
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert "Authorization: Api-Key <key>" in response.json()["detail"]


def test_api_key__other_schemes_are_401_with_the_hint(tenant):
    _, raw = factories.api_key(tenant)

    response = _client(f"Bearer {raw}").get(URL)

    assert response.status_code == 401
    assert "Api-Key" in response.json()["detail"]


def test_api_key__revoked_key_is_401(tenant):
    key, raw = factories.api_key(tenant, revoked=True)

    response = factories.api_client(raw).get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unknown or revoked API key."}
    key.refresh_from_db()
    assert key.last_used_at is None  # a rejected call leaves no trace on the key


def test_api_key__revoking_a_used_key_locks_it_out(tenant):
    key, raw = factories.api_key(tenant)
    client = factories.api_client(raw)
    assert client.get(URL).status_code == 200

    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())

    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Api-Key ck_unknown_key", "Unknown or revoked"),
        ("Api-Key", "exactly one key"),
        ("Api-Key one two", "exactly one key"),
        ("Api-Key clé-ünicode", "characters no key contains"),
    ],
)
def test_api_key__malformed_or_unknown_is_401(tenant, authorization, message):
    response = _client(authorization).get(URL)

    assert response.status_code == 401
    assert message in response.json()["detail"]


def test_api_key__the_schema_and_docs_need_a_key_or_a_session(tenant):
    _, raw = factories.api_key(tenant)

    assert APIClient().get("/api/schema/").status_code == 401
    assert APIClient().get("/api/docs/").status_code == 401
    assert factories.api_client(raw).get("/api/schema/").status_code == 200


# Staff sessions ---------------------------------------------------------------------------------------------


def test_staff_session__reads_the_tenant_it_names(tenant, admin_client):
    response = admin_client.get(URL, {"tenant": "acme"})

    assert response.status_code == 200
    assert [r["handle"] for r in response.json()["results"]] == ["lamp"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "tenant"),
        ({"tenant": "nope"}, "tenant"),
        ({"tenant": "a\x00b"}, "tenant"),
        ({"tenant": "x" * 5000}, "tenant"),
        ({"tenant": "acme", "customer_group": "nope"}, "customer_group"),
        ({"tenant": "acme", "customer_group": "g\x00"}, "customer_group"),
    ],
)
def test_staff_session__without_a_valid_tenant_is_400(tenant, admin_client, params, field):
    response = admin_client.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_staff_session__customer_group_applies_its_entitlements(tenant, admin_client):
    other = factories.CategoryFactory(tenant=tenant, slug="other")
    factories.CustomerGroupFactory(tenant=tenant, code="narrow", all_categories=False).categories.set([other])

    response = admin_client.get(URL, {"tenant": "acme", "customer_group": "narrow"})

    assert response.status_code == 200 and response.json()["results"] == []


def test_session__non_staff_user_is_403(tenant):
    client = APIClient()
    client.force_login(User.objects.create_user("shopper", password="x"))

    response = client.get(URL, {"tenant": "acme"})

    assert response.status_code == 403
