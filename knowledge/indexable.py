"""The hash pair every indexable source carries, and how its index status reads.

`content_hash` is a database-generated column on each concrete model (so even `QuerySet.update()`
changes it); `indexed_hash` is the value it had when the worker last indexed the row. The two differ
exactly while the row waits for indexing.
"""

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import MD5, Cast, Concat
from django.utils import timezone


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
