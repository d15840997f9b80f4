"""The records API: reviewers by session (guardian, per tenant) and keys with records scopes; reads audited."""

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from governance.models import AuditEvent, Scope
from tests import factories
from tests.governance.review_data import two_tenants

pytestmark = pytest.mark.django_db

LIST = "/api/v1/records/"
EXPORT = "/api/v1/records/export/"


def detail(record) -> str:
    return f"/api/v1/records/{record.pk}/"


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def key_client(tenant, *scopes) -> APIClient:
    key, raw = factories.api_key(tenant, name="review tool")
    key.scopes = list(scopes)
    key.save(update_fields=["scopes"])
    return factories.api_client(raw)


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_review_api__reviewer_session_lists_only_their_tenant_and_gets_403_for_the_other():
    world = two_tenants()
    client = session(world.reviewer)

    assert ids(client.get(LIST)) == {str(world.record_a.pk)}
    assert ids(client.get(LIST, {"q": "Bravo"})) == set()
    assert client.get(LIST, {"tenant": "tenant-b"}).status_code == 403
    assert client.get(detail(world.record_b)).status_code == 403
    assert client.get("/api/v1/records/00000000-0000-0000-0000-000000000000/").status_code == 403
    assert client.post(EXPORT, {"ids": [str(world.record_b.pk)]}, format="json").status_code == 403
    assert not AuditEvent.objects.filter(tenant=world.b, action__startswith="record").exists()


def test_review_api__detail_resolves_citations_and_is_audited_without_content():
    world = two_tenants()
    client = session(world.reviewer)

    body = client.get(detail(world.record_a)).json()

    assert body["question"] == "Alpha: can I return headphones?" and body["verdict"] == "partial"
    cited = world.record_a.citations.get().chunk
    assert body["citations"][0] | {"retired_at": None} == {
        "number": 1, "citation_id": cited.citation_id, "claim": 0, "chunk_id": cited.pk, "title": cited.title,
        "text": cited.text, "is_current": True, "retired_at": None,
    }  # fmt: skip
    assert [c["status"] for c in body["claims"]] == ["kept", "removed"]
    assert body["versions"]["route_reason"] == "chat: low risk: extractive"
    event = AuditEvent.objects.get(action="record.view")
    assert (event.tenant, event.actor, event.object_id) == (world.a, world.reviewer, str(world.record_a.pk))
    assert "Alpha" not in json.dumps(event.detail) and event.detail["via"] == "api"


def test_review_api__list_is_audited_with_the_ids_read_and_no_search_text():
    world = two_tenants()

    session(world.reviewer).get(LIST, {"q": "headphones"})

    event = AuditEvent.objects.get(action="records.list")
    assert event.tenant == world.a and event.detail["ids"] == [str(world.record_a.pk)]
    assert "headphones" not in json.dumps(event.detail)


def test_review_api__filters_by_verdict_and_risk():
    world = two_tenants()
    from tests.governance.review_data import record

    high = record(world.a, verdict="verified", risk="high")
    client = session(world.reviewer)

    assert ids(client.get(LIST, {"verdict": "verified"})) == {str(high.pk)}
    assert ids(client.get(LIST, {"risk": "low"})) == {str(world.record_a.pk)}
    assert client.get(LIST, {"verdict": "nonsense"}).status_code == 400


def test_review_api__superuser_reads_every_tenant(django_user_model):
    world = two_tenants()
    client = session(django_user_model.objects.create_superuser("root", password="x"))

    assert ids(client.get(LIST)) == {str(world.record_a.pk), str(world.record_b.pk)}
    assert client.get(detail(world.record_b)).status_code == 200


def test_review_api__staff_without_a_grant_and_anonymous_callers_read_nothing(django_user_model):
    world = two_tenants()
    staff = django_user_model.objects.create_user("editor", is_staff=True)

    assert session(staff).get(LIST).status_code == 403
    assert session(staff).get(detail(world.record_a)).status_code == 403
    assert APIClient().get(LIST).status_code == 401
    assert not AuditEvent.objects.filter(action__startswith="record").exists()


def test_review_api__keys_need_the_records_scope_and_see_only_their_tenant():
    world = two_tenants()
    reader = key_client(world.a, Scope.RECORDS_READ)
    storefront = key_client(world.a, Scope.CATALOG_READ, Scope.AI_CHAT)

    assert ids(reader.get(LIST)) == {str(world.record_a.pk)}
    assert reader.get(detail(world.record_b)).status_code == 403
    assert reader.get(LIST, {"tenant": "tenant-b"}).status_code == 403
    assert storefront.get(LIST).status_code == 403
    assert storefront.get(detail(world.record_a)).status_code == 403
    assert reader.post(EXPORT, {}, format="json").status_code == 403  # read is not export
    assert not AuditEvent.objects.filter(action="records.export").exists()


def test_review_api__export_with_the_export_scope_returns_a_verifiable_zip():
    world = two_tenants()
    exporter = key_client(world.a, Scope.RECORDS_EXPORT)

    response = exporter.post(EXPORT, {"verdict": "partial"}, format="json")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        lines = zf.read("records.jsonl").splitlines()
    assert [e["id"] for e in manifest["records"]] == [str(world.record_a.pk)] and len(lines) == 1
    event = AuditEvent.objects.get(action="records.export")
    assert event.tenant == world.a and event.actor is None and event.detail["via"] == "api"
    assert event.detail["api_key"] and event.detail["count"] == 1


def test_review_api__export_of_ids_including_another_tenants_is_refused_whole():
    world = two_tenants()
    client = session(world.reviewer)

    response = client.post(EXPORT, {"ids": [str(world.record_a.pk), str(world.record_b.pk)]}, format="json")

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="records.export").exists()


def test_review_api__list_query_count_does_not_grow_with_the_page():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.governance.review_data import record

    world = two_tenants()
    client = key_client(world.a, Scope.RECORDS_READ)
    client.get(LIST)  # the key's last_used_at is written once a minute: keep it out of the counts

    with CaptureQueriesContext(connection) as one:
        assert len(ids(client.get(LIST))) == 1
    for _ in range(4):
        record(world.a)
    with CaptureQueriesContext(connection) as five:
        assert len(ids(client.get(LIST))) == 5

    assert len(five) == len(one)
