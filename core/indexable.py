"""The indexable-source contract: the hash pair every source carries, and how a writer asks for indexing.

`content_hash` is a database-generated column on each concrete model (so even `QuerySet.update()`
changes it); `indexed_hash` is the value it had when the worker last indexed the row. The two differ
exactly while the row waits for indexing.

A writer in any app calls `index_mark_changed` before saving and `index_schedule` after; the indexing task
is sent by its name, so a content app never imports the indexer. A deleted source is announced with
`sources_deleted` in the same transaction; the indexer (knowledge) takes its chunks out of search at once.
"""

import logging
import threading
from collections import defaultdict
from contextlib import contextmanager

from celery import current_app
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import MD5, Cast, Concat
from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

INDEX_TASK = "knowledge.tasks.sources_index"
# Sources per bulk task: the encoder orders a task's texts by length into batches, and the more texts it
# orders at once, the closer in length (the less padded) each batch.
INDEX_BATCH = 512

# Sent by a delete service inside its transaction with `kind` and `ids`; the indexer's receiver retires
# the sources' chunks in that same transaction, so a deleted row is unsearchable the moment it commits.
sources_deleted = Signal()


class SourceKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SKU = "sku", "SKU"
    POLICY = "policy", "Policy"
    DOCUMENT = "doc", "Document"


def content_hash_field(*fields: str) -> models.GeneratedField:
    """Return a stored generated MD5 over the given columns, separated so that ('ab','c') != ('a','bc')."""
    parts = []
    for name in fields:
        parts += [Cast(F(name), models.TextField()), Value("\x1f")]
    return models.GeneratedField(
        expression=MD5(Concat(*parts[:-1], output_field=models.TextField())),
        output_field=models.CharField(max_length=32),
        db_persist=True,
    )


PENDING = ~Q(content_hash=F("indexed_hash")) | Q(indexed_hash__isnull=True)


class IndexedSource(models.Model):
    indexed_hash = models.CharField(max_length=32, null=True, blank=True, editable=False)  # noqa: DJ001 - null: never indexed
    index_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    index_enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    indexed_at = models.DateTimeField(null=True, blank=True, editable=False)
    index_error = models.TextField(blank=True, editable=False)
    index_attempts = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    @property
    def index_pending(self) -> bool:
        return self.indexed_hash != self.content_hash

    def index_status(self) -> tuple[str, str]:
        """Return (state, detail): fresh, pending with its lag, or failed with the error."""
        if not self.index_pending:
            return "fresh", ""
        if self.index_error:
            return "failed", self.index_error
        since = self.index_changed_at or self.indexed_at
        lag = (timezone.now() - since).total_seconds() if since else None
        return "pending", f"{lag:.0f} s" if lag is not None else ""


def pending_index(name: str) -> models.Index:
    """Index the rows that wait for indexing, so the sweep stays cheap on a large catalog."""
    return models.Index(fields=["index_changed_at"], name=name, condition=PENDING)


def index_mark_changed(instance) -> None:
    """Note on an unsaved source that its content changed now (for the lag shown in the admin)."""
    instance.index_changed_at = timezone.now()
    instance.index_error = ""
    instance.index_attempts = 0


_batched = threading.local()


def index_schedule(kind: str, ids) -> None:
    """Enqueue indexing of these sources once the current transaction commits."""
    collected = getattr(_batched, "ids", None)
    if collected is not None:
        collected[kind].update(ids)
        return
    ids = sorted(set(ids))
    if ids:
        transaction.on_commit(lambda: index_enqueue(kind, ids))


@contextmanager
def index_schedule_batched():
    """Collect the `index_schedule` calls of many writes and schedule each kind's rows once, at the end.

    A bulk write (an import batch) then sends tasks of INDEX_BATCH rows that fill the encoder instead of
    one task per row. Use it inside the transaction whose commit should send the tasks.
    """
    if getattr(_batched, "ids", None) is not None:  # nested: the outer block schedules
        yield
        return
    _batched.ids = defaultdict(set)
    try:
        yield
        collected = _batched.ids
    finally:
        _batched.ids = None
    for kind, ids in collected.items():
        index_schedule(kind, ids)


def index_enqueue(kind: str, ids: list[int]) -> None:
    """Send indexing tasks now; with the broker down, log and leave the rows to the sweep."""
    for start in range(0, len(ids), INDEX_BATCH):
        try:
            current_app.send_task(INDEX_TASK, args=(kind, ids[start : start + INDEX_BATCH]), retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep bounds the delay
            logger.warning("broker unavailable (%s); %d %s rows wait for the sweep", type(exc).__name__, len(ids), kind)
            return


def sources_delete_announce(kind: str, ids) -> None:
    """Tell the indexer, inside the deleting transaction, that these sources are gone."""
    ids = sorted(set(ids))
    if ids:
        sources_deleted.send(sender=SourceKind, kind=kind, ids=ids)
