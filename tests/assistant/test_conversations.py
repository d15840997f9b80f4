"""Conversations as rows: turns go with their answer records, empty conversations are pruned, and the
conversations kept before as answer records sharing an id become rows (migration 0002)."""

import datetime
import importlib
import uuid

import pytest
from django.apps import apps
from django.utils import timezone

from assistant.models import Conversation, ConversationTurn
from assistant.services.conversations import PRUNE_AFTER, conversation_turn_add, conversations_prune
from core.tenancy import Caller
from governance.models import RetentionPolicy
from governance.retention import records_purge
from tests import factories
from tests.governance.retention_data import answer

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(days=31)
backfill = importlib.import_module("assistant.migrations.0002_conversations").conversations_from_records


def _conversation(tenant, key, n=2):
    caller = Caller.of(tenant, None, key)
    cid = uuid.uuid4()
    for i in range(n):
        record = answer(tenant, conversation_id=cid, api_key=key, question=f"Question {i}?", product="kettle")
        conversation_turn_add(caller=caller, conversation_id=cid, record=record, product_id=None)
    return Conversation.objects.get(pk=cid)


def test_conversation_turn_add__begins_the_conversation_bound_to_the_caller_then_appends():
    tenant = factories.TenantFactory()
    key, _ = factories.api_key(tenant)

    conversation = _conversation(tenant, key)

    assert (conversation.tenant, conversation.key_lineage, conversation.customer_group) == (tenant, key.lineage, None)
    turns = list(conversation.turns.all())
    assert [t.question for t in turns] == ["Question 0?", "Question 1?"] and {t.product for t in turns} == {"kettle"}
    assert conversation.last_used_at == turns[-1].answer_record.created_at


def test_retention__a_purged_conversation_loses_its_turns_and_the_prune_then_removes_it():
    tenant = factories.TenantFactory()
    key, _ = factories.api_key(tenant)
    purged, kept = _conversation(tenant, key), _conversation(tenant, key)
    RetentionPolicy.objects.create(tenant=tenant, record_class="conversations", retain_days=30)
    ConversationTurn.objects.filter(conversation=kept).update(answer_record=None)  # a turn left without record

    records_purge(now=timezone.now() + LATER)
    too_soon = conversations_prune(now=timezone.now())
    pruned = conversations_prune(now=timezone.now() + PRUNE_AFTER + datetime.timedelta(minutes=1))

    assert not ConversationTurn.objects.filter(conversation_id=purged.pk).exists()
    assert (too_soon, pruned) == (0, 1)
    assert list(Conversation.objects.values_list("pk", flat=True)) == [kept.pk]  # it still has turns


def test_migration_backfill__conversations_kept_as_records_become_rows_bound_to_their_first_caller():
    tenant = factories.TenantFactory()
    group = factories.CustomerGroupFactory(tenant=tenant)
    key, _ = factories.api_key(tenant, group)
    intruder, _ = factories.api_key(tenant)
    cid = uuid.uuid4()
    first = answer(tenant, conversation_id=cid, api_key=key, customer_group=group, question="First?")
    answer(tenant, conversation_id=cid, api_key=intruder, question="Someone else's?")  # reused the id
    last = answer(tenant, conversation_id=cid, api_key=key, customer_group=group, question="Second?")
    answer(tenant, question="Not in a conversation?")

    backfill(apps, None)

    conversation = Conversation.objects.get()
    assert (conversation.pk, conversation.key_lineage, conversation.customer_group) == (cid, key.lineage, group)
    assert (conversation.created_at, conversation.last_used_at) == (first.created_at, last.created_at)
    turns = conversation.turns.all()
    assert [(t.question, t.answer_record_id) for t in turns] == [("First?", first.pk), ("Second?", last.pk)]


def test_conversation_admin__lists_a_reviewers_tenants_only_with_turns_linking_their_records(client):
    from django.contrib.auth.models import Permission

    from tests.governance.review_data import reviewer_of
    from tests.test_admin import admin_url

    mine, other = factories.TenantFactory(), factories.TenantFactory()
    ours, theirs = _conversation(mine, factories.api_key(mine)[0]), _conversation(other, factories.api_key(other)[0])
    reviewer = reviewer_of(mine)
    reviewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    client.force_login(reviewer)

    listing = client.get(admin_url(Conversation, "changelist"))
    page = client.get(admin_url(ours, "change"))

    assert [c.pk for c in listing.context["cl"].result_list] == [ours.pk]
    assert client.get(admin_url(theirs, "change")).status_code == 403
    record = ours.turns.first().answer_record
    assert page.status_code == 200 and admin_url(record, "change") in page.content.decode()
    assert "Question 1?" in page.content.decode()
