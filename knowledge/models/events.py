"""Change-event sources, their signing secrets, the events received and the last version applied per entity.

Re-exported by knowledge.models. The flow is in knowledge/ingestion/events.py; docs/feeds.md describes it.
"""

from django.db import models
from django.db.models import Q

from catalog.models import Tenant
from knowledge.models.ingestion import IngestionRun


class EventSource(models.Model):
    """A shop's system (a PIM, an ERP) posting signed change events for one tenant to /api/v1/events/<name>/.

    The URL names no tenant, so a source's name is unique across tenants: it says which source (and so which
    tenant and secrets) a request claims to come from; the signature proves it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="event_sources")
    name = models.SlugField(
        max_length=100, unique=True, help_text="The <source> in /api/v1/events/<source>/: unique across tenants."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant", "name"]

    def __str__(self):
        return self.name


class EventSecret(models.Model):
    """One HMAC secret of a source, Fernet-encrypted; it verifies until `expires_at` (set by a rotation)."""

    source = models.ForeignKey(EventSource, on_delete=models.CASCADE, related_name="secrets")
    ciphertext = models.BinaryField()
    fingerprint = models.CharField(
        max_length=12, help_text="The start of the secret's SHA-256: tells secrets apart, reveals nothing."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source", "-created_at"]

    def __str__(self):
        return f"{self.source} secret {self.fingerprint}…"


class ReceivedEvent(models.Model):
    """An event a source sent that was taken: applied, or acknowledged as stale. Its id is never taken again."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        STALE = "stale", "Stale (not newer than the last applied)"

    source = models.ForeignKey(EventSource, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=20)
    entity = models.CharField(max_length=400, help_text="Record type and natural key: `price|retail|SKU-1`.")
    version = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    action = models.CharField(max_length=10, blank=True, help_text="new, changed, deleted or unchanged.")
    run = models.ForeignKey(IngestionRun, on_delete=models.CASCADE, related_name="events")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="event_id_once_per_source")]

    def __str__(self):
        return f"{self.source} {self.event_id} {self.event_type} ({self.outcome})"


class EntityVersion(models.Model):
    """The order (version or time) of the last event a source applied to an entity: older ones are stale."""

    source = models.ForeignKey(EventSource, on_delete=models.CASCADE, related_name="entity_versions")
    entity = models.CharField(max_length=400)
    version = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "entity"], name="entity_version_once_per_source"),
            models.CheckConstraint(
                condition=Q(version__isnull=False) | Q(occurred_at__isnull=False), name="entity_version_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.entity} @{self.version if self.version is not None else self.occurred_at}"
