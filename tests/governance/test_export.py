"""Records export: a zip of records.jsonl and a manifest whose hashes verify it, scoped and audited."""

import hashlib
import io
import json
import zipfile

import pytest

from governance.export import JSONL_NAME, MANIFEST_NAME, records_export
from governance.models import AnswerRecord, AuditEvent
from governance.review import reviewer_for_user
from tests.governance.review_data import chunk, record, two_tenants

pytestmark = pytest.mark.django_db


def unzip(content: bytes) -> tuple[bytes, dict]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        assert sorted(zf.namelist()) == sorted([JSONL_NAME, MANIFEST_NAME])
        return zf.read(JSONL_NAME), json.loads(zf.read(MANIFEST_NAME))


def test_export__manifest_hashes_verify_the_jsonl_and_name_each_record(django_user_model):
    world = two_tenants()
    second = record(world.a, question="Alpha: second question?")

    export = records_export(
        reviewer=reviewer_for_user(world.reviewer), records=AnswerRecord.objects.all(), actor=world.reviewer, via="test"
    )

    body, manifest = unzip(export.content)
    assert manifest["jsonl_sha256"] == hashlib.sha256(body).hexdigest()
    lines = body.splitlines(keepends=True)
    assert manifest["count"] == len(lines) == 2
    for line, entry in zip(lines, manifest["records"], strict=True):
        document = json.loads(line)
        assert entry["line_sha256"] == hashlib.sha256(line).hexdigest()
        assert entry["id"] == document["id"]
        stored = AnswerRecord.objects.get(pk=entry["id"])
        assert (entry["chain_seq"], entry["record_hash"], entry["content_hash"]) == (
            stored.chain_seq, stored.record_hash, stored.content_hash,
        )  # fmt: skip
    assert {e["id"] for e in manifest["records"]} == {str(world.record_a.pk), str(second.pk)}


def test_export__reviewer_of_a_gets_nothing_of_b(django_user_model):
    world = two_tenants()

    export = records_export(
        reviewer=reviewer_for_user(world.reviewer), records=AnswerRecord.objects.all(), actor=world.reviewer, via="test"
    )

    body, manifest = unzip(export.content)
    assert [e["tenant"] for e in manifest["records"]] == ["tenant-a"]
    assert b"Bravo" not in body and str(world.record_b.pk) not in json.dumps(manifest)


def test_export__a_record_keeps_the_exact_chunk_version_it_cited_after_retirement():
    world = two_tenants()
    old = chunk(world.a, title="Returns (v3)", text="Return within 30 days.", retired=True)
    cited = record(world.a, cited=old)

    export = records_export(
        reviewer=reviewer_for_user(world.reviewer), records=AnswerRecord.objects.filter(pk=cited.pk), via="test"
    )

    body, _ = unzip(export.content)
    document = json.loads(body)
    assert document["citations"] == [
        {
            "number": 1, "citation_id": old.citation_id, "claim": 0, "chunk_id": old.pk, "title": "Returns (v3)",
            "text": "Return within 30 days.", "is_current": False, "retired_at": old.retired_at.isoformat(),
        }
    ]  # fmt: skip
    assert [(c["status"], c["reasons"]) for c in document["claims"]] == [
        ("kept", []), ("removed", ["no passage supports it"]),
    ]  # fmt: skip
    assert document["versions"]["provider"] == "extractive" and document["tokens"] == {"prompt": 321, "completion": 45}


def test_export__is_audited_per_tenant_with_hashes_and_no_content():
    world = two_tenants()
    before = AuditEvent.objects.count()

    export = records_export(
        reviewer=reviewer_for_user(world.reviewer), records=AnswerRecord.objects.all(), actor=world.reviewer, via="test"
    )

    event = AuditEvent.objects.get(action="records.export")
    assert AuditEvent.objects.count() == before + 1
    assert event.tenant == world.a and event.actor == world.reviewer
    assert event.detail["count"] == 1 and event.detail["jsonl_sha256"] == export.manifest["jsonl_sha256"]
    assert "Alpha" not in json.dumps(event.detail) and "headphones" not in json.dumps(event.detail)


def test_export__an_empty_export_is_still_audited(django_user_model):
    world = two_tenants()
    stranger = django_user_model.objects.create_user("stranger")

    export = records_export(
        reviewer=reviewer_for_user(stranger), records=AnswerRecord.objects.all(), actor=stranger, via="test"
    )

    body, manifest = unzip(export.content)
    assert body == b"" and manifest["count"] == 0 and export.count == 0
    event = AuditEvent.objects.get(action="records.export")
    assert event.actor == stranger and event.tenant is None and event.detail["count"] == 0
    assert world.record_b.question not in json.dumps(event.detail)


@pytest.mark.parametrize("size", [1, 4])
def test_export__query_count_does_not_grow_with_the_records(size, django_assert_num_queries):
    world = two_tenants()
    for _ in range(size - 1):
        record(world.a)
    reviewer = reviewer_for_user(world.reviewer)

    # savepoint, count, the records' cursor, claims, claims' citations, citations, the audit event, release
    with django_assert_num_queries(8):
        export = records_export(reviewer=reviewer, records=AnswerRecord.objects.all(), via="test")

    assert export.count == size
