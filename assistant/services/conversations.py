"""Conversation writes: each chat answer becomes a turn of its conversation; conversations left without turns
(their answer records purged by retention) are pruned."""

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from assistant.models import Conversation, ConversationTurn
from core.tenancy import Caller
from governance.models import AnswerRecord

PRUNE_AFTER = datetime.timedelta(days=1)  # an empty conversation this long unused is gone (a turn may be on its way)


@transaction.atomic
def conversation_turn_add(
    *, caller: Caller, conversation_id: uuid.UUID, record: AnswerRecord, product_id: int | None
) -> ConversationTurn:
    """Add the answer as the conversation's next turn, beginning the conversation (bound to the caller's tenant,
    key lineage and customer group, about `product_id`) when it is new.

    The turn keeps the question and answer as the record retains them (PII as vault tokens), and the handle of
    the product it was about (the record's).
    """
    conversation, _ = Conversation.objects.select_for_update().get_or_create(
        pk=conversation_id,
        defaults=dict(
            tenant_id=caller.tenant_id,
            key_lineage=caller.key_lineage,
            customer_group_id=caller.customer_group_id,
            product_id=product_id,
            created_at=record.created_at,
        ),
    )
    turn = ConversationTurn.objects.create(
        conversation=conversation,
        question=record.question,
        answer=record.answer,
        answer_record=record,
        product=record.product,
        created_at=record.created_at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_used_at=record.created_at)
    return turn


def conversations_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the conversations that have no turn left and were not used for PRUNE_AFTER; return how many."""
    cutoff = (now or timezone.now()) - PRUNE_AFTER
    deleted, _ = Conversation.objects.filter(last_used_at__lt=cutoff, turns__isnull=True).delete()
    return deleted
