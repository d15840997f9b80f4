"""Retention, hold and chain tests: answer records written through answer_record_create, compliance officers."""

import itertools
import uuid
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Permission, User
from django.db import IntegrityError, connection, transaction

from assistant.pipeline.types import Citation, Claim
from governance.models import AnswerRecord
from governance.services import answer_record_create
from knowledge.models import Chunk

_n = itertools.count(1)


def chunk(tenant) -> Chunk:
    """A policy chunk to cite (written directly: these tests need a citable row, not an indexed source)."""
    n = next(_n)
    return Chunk.objects.create(
        tenant=tenant, source_kind="policy", source_id=n, source_key=f"returns-{n}", source_version=1,
        anchor="c1", ordinal=0, locale="en", text="You can return items within 30 days.", token_count=8,
        content_hash=f"{n:064x}",
    )  # fmt: skip


def answer(tenant, *, question="Can I return headphones?", answer="Within 30 days [1].", **fields) -> AnswerRecord:
    """Write an answer with two claims (one kept, citing [1]; one removed) and one citation, as the pipeline does."""
    claims = (
        Claim(text="Within 30 days [1].", drafted="Within 30 days [1].", status="kept", numbers=(1,)),
        Claim(text="Free returns forever.", drafted="Free returns forever.", status="removed", reasons=("unsure",)),
    )
    values = dict(capability="chat", locale="en", verdict="partial", provider="extractive", model="extractive")
    values.update(fields)
    citations = (Citation(1, chunk(tenant)),)
    values |= {"tenant": tenant, "question": question, "answer": answer}
    return answer_record_create(claims=claims, citations=citations, **values)


def conversation(tenant, turns: int = 2, **fields) -> list[AnswerRecord]:
    conversation_id = uuid.uuid4()
    return [answer(tenant, conversation_id=conversation_id, **fields) for _ in range(turns)]


def officer(username="officer") -> User:
    """A compliance officer: staff with `governance.place_legalhold`."""
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="place_legalhold"))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def snapshot(record: AnswerRecord) -> tuple:
    """Everything stored for the record: its row, its claims and its citations."""
    row = AnswerRecord.objects.filter(pk=record.pk).values().first()
    claims = list(record.claims.order_by("pk").values())
    citations = list(record.citations.order_by("pk").values())
    return row, claims, citations


def sql(statement: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@contextmanager
def refused(match: str = "legal hold"):
    """Expect the database to refuse the block's write (IntegrityError from a trigger), in a savepoint."""
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        yield
