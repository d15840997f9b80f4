"""API key scopes, the scope helper for other views, the key admin, and: every endpoint but /healthz needs a caller."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from catalog.models import Tenant
from governance.models import ApiKey, Scope, hash_key
from governance.permissions import HasTenant, scope_required
from tests import factories

pytestmark = pytest.mark.django_db

CATALOG_URLS = ["/api/v1/products/", "/api/v1/skus/", "/api/v1/policies/", "/api/v1/documents/", "/api/v1/search/?q=x"]
OPEN = {"/healthz"}  # the only endpoint anyone may call
SIGN_IN = {"/admin/login/", "/admin/logout/"}  # the admin's own sign-in and sign-out pages


def _client(tenant, scopes):
    key, raw = factories.api_key(tenant)
    ApiKey.objects.filter(pk=key.pk).update(scopes=scopes)
    return factories.api_client(raw)


@pytest.fixture
def tenant():
    return factories.TenantFactory(slug="scoped")


@pytest.mark.parametrize("url", CATALOG_URLS + ["/api/v1/citations/sku:X@1%23spec"])
def test_scopes__catalog_endpoints_need_catalog_read(tenant, url):
    response = _client(tenant, [Scope.AI_CHAT]).get(url)

    assert response.status_code == 403
    assert "catalog:read" in response.json()["detail"]
    assert _client(tenant, [Scope.CATALOG_READ]).get(url).status_code in (200, 404)


@pytest.mark.parametrize("path", ["chat", "search", "summarize", "classify", "generate"])
def test_scopes__assistant_endpoints_need_ai_chat(tenant, path):
    response = _client(tenant, [Scope.CATALOG_READ, Scope.RECORDS_READ]).post(f"/ai/v1/{path}", {}, format="json")

    assert response.status_code == 403
    assert "ai:chat" in response.json()["detail"]
    assert _client(tenant, [Scope.AI_CHAT]).post(f"/ai/v1/{path}", {}, format="json").status_code == 400


def test_scopes__a_key_with_no_scope_reaches_nothing(tenant):
    client = _client(tenant, [])

    assert {client.get(url).status_code for url in CATALOG_URLS} == {403}
    assert client.post("/ai/v1/chat", {"question": "hi"}, format="json").status_code == 403


class _RecordsProbe(APIView):
    permission_classes = [HasTenant, scope_required(Scope.RECORDS_READ)]

    def get(self, request):
        return Response({"tenant": Tenant.objects.get(pk=request.caller.tenant_id).slug})


def test_scope_required__gives_other_views_a_scope_check(tenant):
    view = _RecordsProbe.as_view()
    factory = APIRequestFactory()
    _, reader = factories.api_key(tenant)
    ApiKey.objects.filter(key_hash=hash_key(reader)).update(scopes=[Scope.RECORDS_READ])
    _, storefront = factories.api_key(tenant)

    allowed = view(factory.get("/api/v1/records-probe/", HTTP_AUTHORIZATION=f"Api-Key {reader}"))
    refused = view(factory.get("/api/v1/records-probe/", HTTP_AUTHORIZATION=f"Api-Key {storefront}"))

    assert allowed.status_code == 200 and allowed.data == {"tenant": "scoped"}  # no catalog:read needed
    assert refused.status_code == 403 and "records:read" in str(refused.data["detail"])
    with pytest.raises(ValueError):
        scope_required("records:delete")


def test_api_key_admin__issues_a_key_with_its_scopes_shown_once(admin_client, tenant):
    response = admin_client.post(
        "/admin/governance/apikey/add/",
        {"tenant": tenant.pk, "name": "compliance tool", "scopes": [Scope.RECORDS_READ, Scope.RECORDS_EXPORT]},
        follow=True,
    )

    key = ApiKey.objects.get(name="compliance tool")
    assert key.scopes == [Scope.RECORDS_READ, Scope.RECORDS_EXPORT]
    raw = re.search(r"ck_[0-9a-f]{8}_[\w-]+", response.content.decode()).group()
    assert hash_key(raw) == key.key_hash and raw not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert "compliance tool" in admin_client.get("/admin/governance/apikey/").content.decode()
    assert raw not in admin_client.get(f"/admin/governance/apikey/{key.pk}/change/").content.decode()


# Every endpoint but /healthz ------------------------------------------------------------------------------------


def _sample(pattern) -> str:
    """A concrete path segment for a URL pattern: converters and regex groups get a plausible value."""
    text = str(pattern.pattern)
    text = re.sub(r"<int:\w+>", "1", text)
    text = re.sub(r"<(?:str|slug|uuid):\w+>", "00000000-0000-0000-0000-000000000000", text)
    text = re.sub(r"<path:\w+>", "x/y", text)
    text = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", text)  # a named group: its first alternative
    text = text.replace(".*", "x").replace(".+", "x").replace("[0-9]+", "1").replace("\\d+", "1")
    return text.lstrip("^").replace("\\Z", "").rstrip("$").replace("\\", "")


def _walk(patterns, prefix="") -> list[str]:
    paths = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            paths += _walk(pattern.url_patterns, prefix + _sample(pattern))
        elif isinstance(pattern, URLPattern):
            paths.append("/" + prefix + _sample(pattern))
    return sorted(set(paths))


def test_every_endpoint__but_healthz_needs_a_key_or_a_session():
    paths = _walk(get_resolver().url_patterns)
    client = APIClient()

    answers = {path: client.get(path) for path in paths if path not in OPEN | SIGN_IN}

    assert len(answers) > 50 and any(p.startswith("/ai/v1/") for p in answers)
    exposed = {
        path: response.status_code
        for path, response in answers.items()
        if not (
            response.status_code in (401, 403)
            or (response.status_code == 302 and response["Location"].startswith("/admin/login/"))
        )
    }
    assert exposed == {}
    assert client.get("/healthz").status_code in (200, 503)


def test_every_endpoint__accepts_a_signed_in_session_where_it_refuses_the_anonymous(admin_client, tenant):
    for path in ("/", "/api/schema/", "/api/docs/", "/api/v1/products/?tenant=scoped"):
        assert admin_client.get(path).status_code == 200, path
        assert APIClient().get(path).status_code in (302, 401), path
