"""/healthz, the OpenAPI schema at /api/schema/ and the interactive docs at /api/docs/."""

import io
import json
import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command
from jsonschema import Draft202012Validator

from config.celery import HEARTBEAT_KEY
from knowledge.api.schema import component_name
from knowledge.ingestion.formats import feed_schema

API_PATHS = {
    "/api/v1/products/",
    "/api/v1/products/{handle}/",
    "/api/v1/skus/",
    "/api/v1/skus/{code}/",
    "/api/v1/policies/",
    "/api/v1/policies/{slug}/",
    "/api/v1/policies/{slug}/versions/{number}/",
    "/api/v1/documents/",
    "/api/v1/documents/{slug}/",
    "/api/v1/skus/{code}/prices/{price_list}/",
    "/api/v1/skus/{code}/stock/{warehouse}/",
    "/api/v1/reviews/",
    "/api/v1/reviews/{slug}/",
    "/api/v1/qa/",
    "/api/v1/qa/{slug}/",
    "/api/v1/feeds/",
    "/api/v1/feeds/{run_id}/",
}
READ_AND_WRITE = {
    "/api/v1/products/", "/api/v1/products/{handle}/", "/api/v1/skus/", "/api/v1/skus/{code}/", "/api/v1/policies/",
    "/api/v1/policies/{slug}/", "/api/v1/documents/", "/api/v1/documents/{slug}/",
}  # fmt: skip
WRITES = {  # path: the methods that write there
    "/api/v1/products/": {"post"},
    "/api/v1/products/{handle}/": {"put", "patch", "delete"},
    "/api/v1/skus/": {"post"},
    "/api/v1/skus/{code}/": {"put", "patch", "delete"},
    "/api/v1/skus/{code}/prices/{price_list}/": {"put", "patch", "delete"},
    "/api/v1/skus/{code}/stock/{warehouse}/": {"put", "patch", "delete"},
    "/api/v1/policies/": {"post"},
    "/api/v1/policies/{slug}/": {"put", "patch", "delete"},
    "/api/v1/documents/": {"post"},
    "/api/v1/documents/{slug}/": {"put", "patch", "delete"},
    "/api/v1/reviews/": {"post"},
    "/api/v1/reviews/{slug}/": {"put", "patch", "delete"},
    "/api/v1/qa/": {"post"},
    "/api/v1/qa/{slug}/": {"put", "patch", "delete"},
    "/api/v1/feeds/": {"post"},
}


# /healthz (the 200 test runs first, so the session worker is started once and then stopped) ------------------


@pytest.mark.django_db
def test_healthz__ok_with_database_redis_and_a_live_worker(client, live_worker):
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["pgvector"]
    assert body["redis"] == {"ok": True}
    assert body["workers"]["alive"] >= 1 and live_worker.hostname in body["workers"]["names"]
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz__degraded_without_a_worker_heartbeat(client, worker):
    worker.stop()  # the `live_worker` fixture starts it again for the tests that need it
    redis = cache._cache.get_client()
    for key in redis.keys(f"*{HEARTBEAT_KEY}*"):
        redis.delete(key)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["workers"]["alive"] == 0 and body["workers"]["ok"] is False
    assert body["database"]["ok"] is True and body["redis"]["ok"] is True


def test_healthz__only_answers_get(client):
    assert client.post("/healthz").status_code == 405


# OpenAPI ----------------------------------------------------------------------------------------------------


def test_schema__generates_and_lists_every_storefront_endpoint(admin_client):
    client = admin_client  # only /healthz is open; the schema needs a key or a session
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert API_PATHS <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiKey"]["in"] == "header"
    product_params = {p["name"] for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}
    assert {"category", "brand", "compliance_category", "is_active", "q", "in_stock", "price_min", "price_max"} <= (
        product_params
    )
    assert {"page", "page_size"} <= product_params


def test_schema__json_format_parses(admin_client):
    client = admin_client
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert API_PATHS <= set(json.loads(response.content)["paths"])


def test_schema__every_write_has_request_and_response_examples_and_feed_records_are_components(admin_client):
    schema = yaml.safe_load(admin_client.get("/api/schema/").content)
    components = schema["components"]["schemas"]

    for path, methods in WRITES.items():
        operations = schema["paths"][path]
        assert methods <= set(operations), path
        if path in READ_AND_WRITE:
            assert "get" in operations, f"{path}: the read and the writes are one path"
        for method in methods:
            operation = operations[method]
            assert "403" in operation["responses"], (path, method)
            if method == "delete":
                continue
            assert all(media.get("examples") for media in operation["requestBody"]["content"].values()), (path, method)
            success = [operation["responses"][code] for code in ("200", "201") if code in operation["responses"]]
            assert success and all(r["content"]["application/json"].get("examples") for r in success), (path, method)
            assert "400" in operation["responses"], (path, method)
    for record_type, definition in feed_schema()["$defs"].items():
        published = components[component_name(record_type)]
        Draft202012Validator.check_schema(published)
        assert published["properties"] == definition["properties"] and published["x-key"] == definition["x-key"]
    assert {"$ref": "#/components/schemas/FeedQaRecord"} in components["FeedRecord"]["oneOf"]
    post_product = schema["paths"]["/api/v1/products/"]["post"]["requestBody"]["content"]["application/json"]
    assert post_product["schema"] == {"$ref": "#/components/schemas/FeedProductRecord"}
    upload = schema["paths"]["/api/v1/documents/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"]["format"] == "binary"
    feed = schema["paths"]["/api/v1/feeds/"]["post"]
    assert {"application/x-ndjson", "text/csv"} <= set(feed["requestBody"]["content"])
    assert {("Idempotency-Key", "header", True), ("dry_run", "query", False)} <= {
        (p["name"], p["in"], p.get("required", False)) for p in feed["parameters"]
    }


def test_schema__spectacular_validates_without_warnings():
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=out)

    assert "openapi: 3" in out.getvalue()


# Interactive docs -------------------------------------------------------------------------------------------


def test_docs__serve_swagger_ui_from_local_static_files(admin_client):
    client = admin_client
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    static = [a for a in assets if a.startswith("/static/drf_spectacular_sidecar/")]
    assert any(a.endswith(".js") for a in static) and any(a.endswith(".css") for a in static), assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"):
        assert cdn not in html
    for asset in static:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"
