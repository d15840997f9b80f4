"""Customer Q&A: a document of kind `qa` whose answer is the indexed text; fed, exported and edited in the admin."""

import io
import json

import pytest
from django.core.management import call_command

from knowledge.models import Chunk, Document, SourceKind
from tests import factories
from tests.knowledge.ingestion_helpers import catalog_records, nothing_pending, run_import, write_feed
from tests.test_admin import admin_url, form_errors, login_editor, submit
from tests.worker import wait_until

db = pytest.mark.django_db

CATALOG = [
    {"type": "category", "path": "kitchen", "name": "Kitchen"},
    {"type": "product", "handle": "kettle", "category": "kitchen", "title": "Aster kettle"},
    {"type": "product", "handle": "teapot", "category": "kitchen", "title": "Verde teapot"},
]
QA = [
    {"type": "qa", "slug": "kettle-half-litre", "product": "kettle", "question": "Can it boil half a litre?",
     "answer": "Yes: the minimum fill line is at 0.5 l.", "author": "Aster support"},
    {"type": "qa", "product": "teapot", "answer": "The strainer lifts out for cleaning.", "locale": "de"},
]  # fmt: skip


@db
def test_qa_import__jsonl_and_a_qa_csv_file_make_qa_documents(tmp_path):
    tenant = factories.TenantFactory()
    feed = tmp_path / "feed"
    feed.mkdir()
    write_feed(feed / "catalog.jsonl", CATALOG + QA)
    (feed / "qa.csv").write_text(
        'slug,product,question,answer\nteapot-dishwasher,teapot,"Dishwasher safe?","Yes, on the top rack."\n'
    )

    ok, out = run_import(feed, tenant)

    assert ok, out
    kettle = Document.objects.get(tenant=tenant, slug="kettle-half-litre")
    assert (kettle.kind, kettle.format, kettle.product.handle) == ("qa", "text", "kettle")
    assert (kettle.question, kettle.body) == ("Can it boil half a litre?", "Yes: the minimum fill line is at 0.5 l.")
    assert kettle.title == "Answer by Aster support"
    derived = Document.objects.get(tenant=tenant, kind="qa", product__handle="teapot", locale="de")
    assert derived.slug.startswith("qa-teapot-") and derived.question == "" and derived.title == "Customer answer"
    assert Document.objects.get(tenant=tenant, slug="teapot-dishwasher").question == "Dishwasher safe?"


@db
def test_qa_export__round_trips_into_an_empty_tenant(tmp_path):
    source, copy = factories.TenantFactory(slug="qa-source"), factories.TenantFactory(slug="qa-copy")
    assert run_import(write_feed(tmp_path / "in.jsonl", CATALOG + QA), source)[0]
    path = tmp_path / "export.jsonl"

    call_command("export_catalog", "--tenant", source.slug, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    exported = [json.loads(line) for line in path.read_text().splitlines()]
    ok, out = run_import(path, copy)

    assert ok, out
    assert sorted(r["slug"] for r in exported if r["type"] == "qa") == sorted(catalog_records(source)["qa"])
    assert catalog_records(copy)["qa"] == catalog_records(source)["qa"] and len(catalog_records(copy)["qa"]) == 2
    assert not catalog_records(copy)["document"]  # Q&A are not written as documents
    ok, out = run_import(path, copy)
    assert ok and "applied 0 rows" in out


@db
def test_qa_import__a_qa_slug_of_a_review_is_rejected_not_overwritten(tmp_path):
    tenant = factories.TenantFactory()
    run_import(write_feed(tmp_path / "a.jsonl", CATALOG), tenant)
    kettle = tenant.products.get(handle="kettle")
    factories.document(tenant, slug="kettle-review", kind="review", title="Great", body="Great.", product=kettle)

    ok, out = run_import(write_feed(tmp_path / "b.jsonl", [{**QA[0], "slug": "kettle-review"}]), tenant)

    assert not ok and "field slug: the slug 'kettle-review' belongs to a document of kind 'review'" in out
    assert Document.objects.get(tenant=tenant, slug="kettle-review").kind == "review"


@db
def test_qa_admin__an_editor_adds_a_qa_with_the_question_beside_the_answer(client):
    login_editor(client)
    tenant = factories.TenantFactory()
    kettle = factories.product(tenant, handle="kettle")
    url = admin_url(Document, "add")
    values = {
        "tenant": tenant.pk, "slug": "kettle-qa", "kind": "qa", "format": "text", "locale": "en", "product": kettle.pk,
        "author": "Support", "question": "Is the lid wide?", "body": "Wide enough.",
    }  # fmt: skip

    added = submit(client, url, values)
    document = Document.objects.get(slug="kettle-qa")
    page = client.get(admin_url(document, "change")).content.decode()
    question_on_a_guide = submit(client, url, {**values, "slug": "guide", "kind": "guide", "title": "Guide"})
    no_title = submit(client, url, {**values, "slug": "guide-2", "kind": "guide", "question": ""})

    assert added.status_code == 302, form_errors(added)
    assert (document.question, document.body, document.title) == (
        "Is the lid wide?",
        "Wide enough.",
        "Answer by Support",
    )
    assert 'class="form-row field-question field-body"' in page and "Is the lid wide?" in page
    assert "question: Only a Q&A document has a question." in form_errors(question_on_a_guide)
    assert "title: This field is required." in form_errors(no_title)
    assert not Document.objects.filter(slug__in=["guide", "guide-2"]).exists()


@pytest.mark.django_db(transaction=True)
def test_qa_indexing__the_answer_is_the_passage_and_the_question_is_not_indexed(tmp_path, active_space, live_worker):
    tenant = factories.TenantFactory(slug="qa-index-shop")
    assert run_import(write_feed(tmp_path / "feed.jsonl", CATALOG + QA[:1]), tenant)[0]
    document = Document.objects.get(tenant=tenant, slug="kettle-half-litre")

    wait_until(nothing_pending, 90, message="the Q&A indexed")

    chunks = Chunk.objects.filter(source_kind=SourceKind.DOCUMENT, source_id=document.pk, retired_at__isnull=True)
    assert [c.text for c in chunks] == ["Yes: the minimum fill line is at 0.5 l."]
    assert all("half a litre" not in c.text + c.title for c in chunks)
    assert chunks[0].citation_id == "doc:kettle-half-litre@1#p1"


@db
def test_qa_service__a_qa_title_is_always_who_answered_never_the_question():
    tenant = factories.TenantFactory()
    product = factories.product(tenant=tenant)

    document = factories.document(
        tenant, slug="fold-qa", kind="qa", product=product, title="Do the headphones fold?",
        question="Do the headphones fold?", body="Yes, flat into the case.", author="Sam",
    )  # fmt: skip
    anonymous = factories.document(tenant, slug="anon-qa", kind="qa", product=product, body="No.", title="Fold?")

    assert (document.title, anonymous.title) == ("Answer by Sam", "Customer answer")
    assert document.versions.get().title == "Answer by Sam"  # the version indexed holds no question either
