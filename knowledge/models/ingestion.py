"""Ingestion runs and their staged records, and product media (re-exported by knowledge.models)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from catalog.models import Product, Tenant


class IngestionRun(models.Model):
    """One import of one feed into one tenant; a run that did not finish is resumed by its content hash.

    Change events are grouped per source and hour into one run each (origin `events`, source
    `<source name> <hour>`), whose counts grow with every event taken; it keeps each applied event's record and
    is profiled once its hour has closed (knowledge.ingestion.event_profiles).
    """

    class State(models.TextChoices):
        STAGING = "staging", "Staging"
        STAGED = "staged", "Staged"
        DECIDED = "decided", "Decided (dry run)"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        HELD = "held", "Held for review"
        DISCARDED = "discarded", "Discarded after review"

    class Origin(models.TextChoices):
        FEED = "feed", "Feed file"
        API = "api", "Bulk API"
        EVENTS = "events", "Change events"

    # A held run is unfinished: the same feed again decides it afresh (after a contract or threshold change).
    UNFINISHED = (State.STAGING, State.STAGED, State.DECIDED, State.APPLYING, State.HELD)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="ingestion_runs")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.FEED)
    source = models.CharField(max_length=1000, help_text="The feed's path as given to the command.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the feed's files (names and bytes).")
    prune = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.STAGING)
    staged_through = models.JSONField(default=dict, blank=True, help_text="Per feed file: the last line staged.")
    counts = models.JSONField(default=dict, blank=True, help_text="Per record type: new, changed, ... rejected.")
    report_path = models.CharField(max_length=1000, blank=True)
    profile = models.JSONField(
        default=dict, blank=True, help_text="Counts, field drift, PII flags, freshness (knowledge.ingestion.profile)."
    )
    held_reasons = models.JSONField(default=list, blank=True, help_text="[{trigger, detail}]: why the run is held.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="When a held run was applied or discarded.")
    idempotency_key = models.CharField(
        max_length=200, blank=True, help_text="Bulk API runs: the client's Idempotency-Key (one run per key)."
    )
    dry_run = models.BooleanField(default=False, help_text="Bulk API runs: stop after the decision.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "content_hash"], name="ingestion_run_by_hash"),
            models.Index(fields=["state"], condition=Q(state="held"), name="ingestion_run_held"),
        ]
        permissions = [("review_ingestionrun", "Can apply or discard a held feed run")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source"], condition=Q(origin="events"), name="one_event_run_per_source_hour"
            ),
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], condition=~Q(idempotency_key=""), name="ingestion_run_key_unique"
            ),
        ]

    def __str__(self):
        return f"{self.tenant_id}: {self.source} ({self.state})"


class IngestionSettings(models.Model):
    """A tenant's thresholds for holding a run for review; a tenant without a row has the defaults."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="ingestion_settings")
    max_reject_share = models.FloatField(
        default=0.10, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Hold a run when more than this share of its lines is rejected (0.10 = 10 %).",
    )  # fmt: skip
    max_missing_share = models.FloatField(
        default=0.05, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Hold a run when a contract's required attribute is missing on more than this share of the "
        "run's products under that contract.",
    )  # fmt: skip
    hold_on_type_change = models.BooleanField(
        default=True,
        help_text="Hold a run when a field's type differs from the previous applied run (numbers became text ...).",
    )

    class Meta:
        verbose_name = "ingestion settings"
        verbose_name_plural = "ingestion settings"

    def __str__(self):
        return f"Ingestion settings of {self.tenant}"


class StagedRecord(models.Model):
    """One feed line, validated, with what the decide phase chose to do with it; or, in an event hour's run, the
    record an applied change event wrote (source: the event source, line: the event's number in the hour)."""

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
