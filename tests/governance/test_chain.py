"""Tamper evidence: each tenant's answers form a hash chain; verify_records names altered and removed records."""

import datetime
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from governance.chain import answer_content, answer_content_hash, link_hash
from governance.models import AnswerRecord, ChainHead, RetentionPolicy
from governance.retention import records_purge
from tests import factories
from tests.governance.retention_data import answer, refused, sql

pytestmark = pytest.mark.django_db


def verify(*args) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("verify_records", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_answer_record_create__links_each_tenant_chain_in_order():
    tenant, other = factories.TenantFactory(), factories.TenantFactory()

    records = [answer(tenant), answer(other), answer(tenant), answer(tenant)]

    mine = list(AnswerRecord.objects.filter(tenant=tenant).order_by("chain_seq"))
    assert [r.chain_seq for r in mine] == [1, 2, 3]
    assert [r.prev_hash for r in mine] == ["", mine[0].record_hash, mine[1].record_hash]
    for record in mine:
        assert record.content_hash == answer_content_hash(AnswerRecord.objects.get(pk=record.pk))
        assert record.record_hash == link_hash(record.prev_hash, record.chain_seq, record.content_hash)
    theirs = AnswerRecord.objects.get(pk=records[1].pk)
    assert (theirs.chain_seq, theirs.prev_hash) == (1, "")
    assert ChainHead.objects.get(tenant=tenant).record_hash == mine[-1].record_hash


def test_answer_content_hash__covers_fields_claims_and_citations():
    record = answer(factories.TenantFactory())
    stored = AnswerRecord.objects.get(pk=record.pk)
    original = answer_content_hash(stored)

    changes = [
        ("governance_answerrecord", "cost_estimate = 1", "id"),
        ("governance_answerrecord", "created_at = created_at + interval '1 microsecond'", "id"),
        ("governance_answerrecord", "retrieved = '[{\"chunk_id\": 1}]'", "id"),
        ("governance_answerclaim", "status = 'kept'", "answer_id"),
        ("governance_answercitation", "number = 2", "answer_id"),
    ]
    for table, assignment, key in changes:
        sql("SAVEPOINT change")
        sql(f"UPDATE {table} SET {assignment} WHERE {key} = %s", [record.pk])
        assert answer_content_hash(AnswerRecord.objects.get(pk=record.pk)) != original, assignment
        sql("ROLLBACK TO SAVEPOINT change")

    assert answer_content_hash(AnswerRecord.objects.get(pk=record.pk)) == original


def test_answer_content_hash__covers_the_product_when_set_and_keeps_older_records_hashes():
    tenant = factories.TenantFactory()
    about = answer(tenant, product="kettle")
    plain = AnswerRecord.objects.get(pk=answer(tenant).pk)

    sql("UPDATE governance_answerrecord SET product = 'drill' WHERE id = %s", [about.pk])

    assert answer_content_hash(AnswerRecord.objects.get(pk=about.pk)) != about.content_hash
    assert "product" not in answer_content(plain)  # sealed before the field existed: the same content, the same hash
    output, error = verify()
    assert error is not None and str(about.pk) in output + str(error)


def test_verify_records__a_clean_chain_reports_nothing():
    tenant = factories.TenantFactory()
    for _ in range(3):
        answer(tenant)

    out, error = verify()

    assert error is None, out
    assert "All chains verify (3 records)" in out
    assert "altered" in out and f"{tenant.slug}" in out  # the summary table's header and row


def test_verify_records__names_a_record_altered_by_raw_sql():
    tenant = factories.TenantFactory()
    first, second, third = answer(tenant), answer(tenant), answer(tenant)

    sql("UPDATE governance_answerrecord SET answer = 'Free returns forever.' WHERE id = %s", [second.pk])
    sql("UPDATE governance_answerclaim SET text = 'Changed.' WHERE answer_id = %s AND ordinal = 0", [third.pk])

    out, error = verify()

    assert error is not None and "2 problems" in str(error)
    assert f"#2 altered: {second.pk}" in out and f"#3 altered: {third.pk}" in out
    assert str(first.pk) not in out


def test_verify_records__names_a_record_re_hashed_to_hide_an_edit():
    tenant = factories.TenantFactory()
    first, second = answer(tenant), answer(tenant)
    sql("UPDATE governance_answerrecord SET answer = 'Changed.' WHERE id = %s", [first.pk])
    forged = answer_content_hash(AnswerRecord.objects.get(pk=first.pk))
    sql(
        "UPDATE governance_answerrecord SET content_hash = %s, record_hash = %s WHERE id = %s",
        [forged, link_hash("", 1, forged), first.pk],
    )

    out, error = verify()

    assert error is not None
    assert f"#2 broken-link: {second.pk}" in out and f"altered: {first.pk}" not in out


def test_verify_records__names_a_record_deleted_by_raw_sql():
    tenant = factories.TenantFactory()
    first, second, third = answer(tenant), answer(tenant), answer(tenant)

    sql("DELETE FROM governance_answercitation WHERE answer_id IN (%s, %s)", [second.pk, third.pk])
    sql("DELETE FROM governance_answerclaim WHERE answer_id IN (%s, %s)", [second.pk, third.pk])
    sql("DELETE FROM governance_answerrecord WHERE id IN (%s, %s)", [second.pk, third.pk])

    out, error = verify("--tenant", tenant.slug)

    assert error is not None and "2 problems" in str(error)
    assert f"{tenant.slug} #2 removed" in out and f"{tenant.slug} #3 removed" in out  # #3 was the chain's tail
    assert str(first.pk) not in out


def test_verify_records__a_purge_logged_gap_is_not_a_problem():
    tenant = factories.TenantFactory()
    old = [answer(tenant), answer(tenant)]
    RetentionPolicy.objects.create(tenant=tenant, record_class="answers", retain_days=30)
    records_purge(now=timezone.now() + datetime.timedelta(days=31))  # removes both, and the chain's tail
    assert not AnswerRecord.objects.filter(pk__in=[r.pk for r in old]).exists()
    answer(tenant)

    out, error = verify()

    assert error is None, out
    assert AnswerRecord.objects.get(tenant=tenant).chain_seq == 3


def test_verify_records__an_unknown_tenant_is_an_error():
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_records", "--tenant", "nope", stdout=io.StringIO())


def test_chain_head__only_moves_forward_by_one():
    tenant = factories.TenantFactory()
    answer(tenant)
    answer(tenant)

    with refused("advance by one"):
        ChainHead.objects.filter(tenant=tenant).update(seq=1)

    assert ChainHead.objects.get(tenant=tenant).seq == 2


@pytest.mark.django_db(transaction=True)
def test_answer_record_create__concurrent_writers_keep_one_contiguous_chain():
    tenant = factories.TenantFactory()
    errors = []

    def write(n: int) -> None:
        try:
            for _ in range(n):
                answer(tenant)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(5,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(AnswerRecord.objects.filter(tenant=tenant).values_list("chain_seq", flat=True)) == list(range(1, 16))
    out, error = verify()
    assert error is None, out
