"""The knowledge admin: policy versions, document uploads, embedding spaces, chunks, re-index."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from knowledge.models import Chunk, Document, DocumentVersion, EmbeddingSpace, Policy, PolicyVersion
from knowledge.services.spaces import hnsw_index_name
from tests import factories
from tests.test_admin import admin_url, form_errors, login_editor, submit
from tests.worker import wait_until

db = pytest.mark.django_db
live = pytest.mark.django_db(transaction=True)

BROKEN_UTF8 = b"Caf\xe9 au lait: descale every month."  # Latin-1, not UTF-8


def _snapshot(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@db
def test_policy_admin__add_publishes_version_one_by_the_editor(client):
    editor = login_editor(client)
    tenant = factories.TenantFactory()
    values = dict(tenant=tenant.pk, slug="returns-eu", kind="returns", locale="en", region="EU")

    response = submit(client, admin_url(Policy, "add"), {**values, "title": "Returns", "body": "30 days."})

    assert response.status_code == 302, form_errors(response)
    policy = Policy.objects.get(slug="returns-eu")
    assert (policy.current_version.number, policy.current_version.published_by) == (1, editor)
    assert policy.index_pending and policy.index_changed_at is not None


@db
def test_policy_admin__title_or_body_edit_publishes_a_version_other_fields_do_not(client):
    login_editor(client)
    policy = factories.policy(title="Returns", body="Return within 30 days.")
    url = admin_url(policy, "change")

    edited = submit(client, url, {"body": "Return within 60 days."}, follow=True)
    region_only = submit(client, url, {"region": "UK"})

    assert "Published version 2 of “" in edited.content.decode()
    assert region_only.status_code == 302
    policy.refresh_from_db()
    assert (policy.current_version.number, policy.current_version.body, policy.region) == (
        2,
        "Return within 60 days.",
        "UK",
    )
    assert list(policy.versions.values_list("number", "body")) == [
        (2, "Return within 60 days."),
        (1, "Return within 30 days."),
    ]


@db
def test_policy_admin__history_lists_versions_and_each_old_text_is_readable_not_editable(client):
    login_editor(client)
    policy = factories.policy(body="Original wording of the returns rules.")
    submit(client, admin_url(policy, "change"), {"body": "New wording."})
    old = policy.versions.get(number=1)

    change_page = client.get(admin_url(policy, "change")).content.decode()
    old_page = client.get(admin_url(old, "change"))
    post = client.post(admin_url(old, "change"), {"title": "rewritten", "body": "rewritten"})

    assert admin_url(old, "change") in change_page and "New wording." in change_page
    assert "Original wording of the returns rules." in old_page.content.decode()
    assert 'name="_save"' not in old_page.content.decode()
    assert post.status_code == 403
    assert PolicyVersion.objects.get(pk=old.pk).body == "Original wording of the returns rules."


@db
def test_policy_admin__bad_input_is_a_form_error_and_changes_nothing(client):
    login_editor(client)
    other = factories.policy(slug="warranty-eu")
    policy = factories.policy(tenant=other.tenant, slug="returns-eu")
    before, versions = _snapshot(Policy, policy.pk), PolicyVersion.objects.count()
    url = admin_url(policy, "change")

    missing = submit(client, url, {"region": "", "body": ""})
    huge = submit(client, url, {"title": "t" * 10 * 2**20})
    taken = submit(client, url, {"slug": "warranty-eu"})

    assert {"region: This field is required.", "body: This field is required."} <= set(form_errors(missing))
    assert "title: Ensure this value has at most 300 characters (it has 10485760)." in form_errors(huge)
    assert "slug: Slug “warranty-eu” is already used in this tenant." in form_errors(taken)
    assert _snapshot(Policy, policy.pk) == before and PolicyVersion.objects.count() == versions


@db
def test_policy_admin__delete_goes_through_the_service_and_retires_chunks(client):
    login_editor(client)
    policy = factories.policy()
    chunk = Chunk.objects.create(
        tenant=policy.tenant, source_kind="policy", source_id=policy.pk, source_key=policy.slug, source_version=1,
        anchor="c1", ordinal=0, locale="en", text="x", token_count=1, content_hash="0" * 64,
    )  # fmt: skip

    confirm = client.get(admin_url(policy, "delete"))
    response = client.post(admin_url(policy, "delete"), {"post": "yes"})

    assert "protected" not in confirm.content.decode()
    assert response.status_code == 302
    assert not Policy.objects.filter(pk=policy.pk).exists() and not PolicyVersion.objects.exists()
    chunk.refresh_from_db()
    assert chunk.retired_at is not None


@db
def test_document_admin__delete_selected_removes_the_document_and_its_history(client):
    login_editor(client)
    document = factories.document()

    response = client.post(
        admin_url(Document, "changelist"),
        {"action": "delete_selected", "_selected_action": [document.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()


def _document_values(tenant, **extra) -> dict:
    return {"tenant": tenant.pk, "slug": "care-guide", "kind": "guide", "locale": "en", "title": "Care", **extra}


@db
def test_document_admin__uploaded_text_and_pdf_become_the_body(client):
    login_editor(client)
    tenant = factories.TenantFactory()
    url = admin_url(Document, "add")
    text = _upload("care.md", "# Care\n\nDescale every month — gently.".encode())
    pdf = _upload("warranty.pdf", factories.pdf_bytes("Warranty covers two years of parts"))

    as_text = submit(client, url, {**_document_values(tenant), "format": "markdown", "source_file": text})
    as_pdf = submit(
        client, url, {**_document_values(tenant, slug="warranty", kind="warranty"), "format": "pdf", "source_file": pdf}
    )

    assert as_text.status_code == as_pdf.status_code == 302
    care, warranty = Document.objects.get(slug="care-guide"), Document.objects.get(slug="warranty")
    assert care.body == "# Care\n\nDescale every month — gently." and care.versions.get().number == 1
    assert warranty.body == "Warranty covers two years of parts" and warranty.source_file.name.endswith(".pdf")


@db
def test_document_admin__broken_utf8_and_fake_pdf_are_file_errors_and_nothing_is_saved(client):
    login_editor(client)
    tenant = factories.TenantFactory()
    url = admin_url(Document, "add")

    broken = submit(
        client, url, {**_document_values(tenant), "format": "text", "source_file": _upload("a.txt", BROKEN_UTF8)}
    )
    fake = submit(
        client, url, {**_document_values(tenant), "format": "pdf", "source_file": _upload("a.pdf", b"<html>")}
    )
    no_file = submit(client, url, {**_document_values(tenant), "format": "pdf"})

    assert "source_file: This file is not valid UTF-8 text (bad byte at position 3)." in form_errors(broken)
    assert "source_file: This file is not a PDF (it does not start with %PDF-)." in form_errors(fake)
    assert "source_file: A PDF document needs its PDF file." in form_errors(no_file)
    assert not Document.objects.exists()


@db
def test_document_admin__bad_edit_leaves_the_stored_document_unchanged(client):
    login_editor(client)
    document = factories.document(format="text", body="Wipe with a damp cloth.")
    before, versions = _snapshot(Document, document.pk), document.versions.count()
    url = admin_url(document, "change")

    broken = submit(client, url, {"title": "New", "source_file": _upload("b.txt", BROKEN_UTF8)})
    rating_text = submit(client, url, {"kind": "review", "rating": "abc"})
    rating_high = submit(client, url, {"kind": "review", "rating": "9"})

    assert any(e.startswith("source_file: This file is not valid UTF-8") for e in form_errors(broken))
    assert "rating: Enter a whole number." in form_errors(rating_text)
    assert "rating: A rating is 1 to 5 stars, not 9." in form_errors(rating_high)
    assert _snapshot(Document, document.pk) == before and document.versions.count() == versions


@db
def test_embedding_space_admin__add_starts_a_switch_through_the_service(client, active_space):
    login_editor(client)
    url = admin_url(EmbeddingSpace, "add")

    bad_path = submit(client, url, {"name": "minilm", "version": "2", "model_path": "/no/such/model"})
    created = submit(client, url, {"name": "minilm", "version": "2", "dimensions": "384"}, follow=True)
    second = submit(client, url, {"name": "minilm", "version": "3", "dimensions": "384"})

    assert "model_path: There is no model folder at /no/such/model." in form_errors(bad_path)
    assert "fills in the background and serves once complete" in created.content.decode()
    space = EmbeddingSpace.objects.get(name="minilm", version=2)
    assert space.state == EmbeddingSpace.State.BUILDING
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [hnsw_index_name(space.pk)])
        assert cursor.fetchone() is not None
    assert any("is still being filled" in e for e in form_errors(second))
    assert client.post(admin_url(space, "change"), {"state": "active"}).status_code == 403


@db
def test_chunk_admin__search_and_filters_show_citations(client):
    login_editor(client)
    tenant = factories.TenantFactory()
    common = dict(tenant=tenant, source_kind="sku", source_id=1, source_version=7, ordinal=0, locale="en")
    live_chunk = Chunk.objects.create(
        **common, source_key="ACME-1001", anchor="spec", text="Ceramic burr", token_count=2, content_hash="1" * 64
    )
    Chunk.objects.create(
        **common, source_key="ACME-1001", anchor="old", text="Steel burr", token_count=2, content_hash="2" * 64,
        retired_at=live_chunk.created_at,
    )  # fmt: skip
    url = admin_url(Chunk, "changelist")

    by_key = client.get(url + "?q=ACME-1001&source_kind=sku&locale=en&retired=no")
    by_text = client.get(url + "?q=steel+burr&retired=yes")

    assert [c.pk for c in by_key.context["cl"].result_list] == [live_chunk.pk]
    assert "sku:ACME-1001@7#spec" in by_key.content.decode()
    assert [c.anchor for c in by_text.context["cl"].result_list] == ["old"]


@live
def test_reindex_action__policies_and_documents_become_fresh(client, active_space, live_worker):
    login_editor(client)
    policy, document = factories.policy(), factories.document()
    for model, row in ((Policy, policy), (Document, document)):
        wait_until(lambda row=row: _fresh(row), 60, message="first indexing")
        model.objects.filter(pk=row.pk).update(
            indexed_hash="0" * 32, index_error="OSError: disk full", index_attempts=10, index_enqueued_at=timezone.now()
        )  # failed, with the sweep backing off for an hour
        assert "failed: OSError: disk full" in client.get(admin_url(model, "changelist")).content.decode()

        response = client.post(
            admin_url(model, "changelist"),
            {"action": "reindex_selected", "_selected_action": [row.pk], "index": "0"},
            follow=True,
        )

        assert f"Queued 1 {model._meta.verbose_name} for re-indexing" in response.content.decode()
        wait_until(lambda row=row: _fresh(row), 60, message=f"re-indexing of the {model._meta.verbose_name}")


def _fresh(row) -> bool:
    row.refresh_from_db()
    return not row.index_pending


@live
def test_keyword_pack_admin__lists_packs_and_rebuilds_the_selected_one_on_the_worker(client, active_space, live_worker):
    import random

    from knowledge.models import KeywordPack
    from knowledge.services.keyword_packs import keyword_pack_build
    from tests.knowledge.test_keyword_exact import _corpus

    tenant, _ = _corpus(random.Random(1), size=40)
    pack = keyword_pack_build(tenant_id=tenant.pk, locale="en")
    login_editor(client)

    listing = client.get(admin_url(KeywordPack, "changelist")).content.decode()
    assert str(tenant) in listing and ">40<" in listing  # chunks in the pack
    assert "Read live since" in listing  # where the leg's reads from the postings table begin
    assert client.get(admin_url(KeywordPack, "add")).status_code == 403  # built by the service only

    response = client.post(
        admin_url(KeywordPack, "changelist"), {"action": "rebuild_selected", "_selected_action": [pack.pk]}, follow=True
    )

    assert "Queued 1 pack(s) for a rebuild" in response.content.decode()
    wait_until(lambda: KeywordPack.objects.get(pk=pack.pk).generation == 2, 60, message="the rebuild on the worker")
