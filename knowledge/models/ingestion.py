"""Ingestion runs and their staged records, and product media (re-exported by knowledge.models)."""

from django.db import models
from django.db.models import Q

from catalog.models import Product, Tenant


class IngestionRun(models.Model):
    """One import of one feed into one tenant; a run that did not finish is resumed by its content hash."""

    class State(models.TextChoices):
        STAGING = "staging", "Staging"
        STAGED = "staged", "Staged"
        DECIDED = "decided", "Decided (dry run)"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        REFUSED = "refused", "Refused (too many rejected lines)"

    class Origin(models.TextChoices):
        FEED = "feed", "Feed file"
        API = "api", "Bulk API"
        EVENTS = "events", "Change events"

    UNFINISHED = (State.STAGING, State.STAGED, State.DECIDED, State.APPLYING)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="ingestion_runs")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.FEED)
    source = models.CharField(max_length=1000, help_text="The feed's path as given to the command.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the feed's files (names and bytes).")
    prune = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.STAGING)
    staged_through = models.JSONField(default=dict, blank=True, help_text="Per feed file: the last line staged.")
    counts = models.JSONField(default=dict, blank=True, help_text="Per record type: new, changed, ... rejected.")
    report_path = models.CharField(max_length=1000, blank=True)
    idempotency_key = models.CharField(
        max_length=200, blank=True, help_text="Bulk API runs: the client's Idempotency-Key (one run per key)."
    )
    dry_run = models.BooleanField(default=False, help_text="Bulk API runs: stop after the decision.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "content_hash"], name="ingestion_run_by_hash")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], condition=~Q(idempotency_key=""), name="ingestion_run_key_unique"
            )
        ]

    def __str__(self):
        return f"{self.tenant_id}: {self.source} ({self.state})"


class StagedRecord(models.Model):
    """One feed line, validated, with what the decide phase chose to do with it."""

    class Action(models.TextChoices):
        NEW = "new", "New"
        CHANGED = "changed", "Changed"
        UNCHANGED = "unchanged", "Unchanged"
        DELETED = "deleted", "Deleted"
        REJECTED = "rejected", "Rejected"

    WRITES = (Action.NEW, Action.CHANGED, Action.DELETED)

    run = models.ForeignKey(IngestionRun, on_delete=models.CASCADE, related_name="records")
    source = models.CharField(max_length=300, help_text="The feed file (empty: a row --prune deletes).")
    line = models.PositiveIntegerField(help_text="The line in its file (0: a row --prune deletes).")
    record_type = models.CharField(max_length=20, blank=True)
    key = models.CharField(max_length=400, blank=True, help_text="The natural key (category slug, SKU code, ...).")
    payload = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="[{field, problem}]: non-empty when rejected.")
    action = models.CharField(max_length=10, choices=Action.choices, blank=True)
    changes = models.JSONField(default=list, blank=True, help_text="The fields a changed record changes.")
    phase = models.PositiveSmallIntegerField(default=0, help_text="Apply order: parents before children.")
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "phase", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "source", "line"], condition=Q(line__gt=0), name="staged_line_unique"
            )
        ]
        indexes = [models.Index(fields=["run", "phase", "id"], condition=Q(applied=False), name="staged_to_apply")]

    def __str__(self):
        return f"{self.source}:{self.line} {self.record_type} {self.key} ({self.action or 'staged'})"


class ProductMedia(models.Model):
    """A product's image URL, in feed order (kept out of the indexed text)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)

    class Meta:
        ordering = ["product", "position"]
        verbose_name_plural = "product media"
        constraints = [models.UniqueConstraint(fields=["product", "position"], name="one_media_per_position")]

    def __str__(self):
        return self.url
