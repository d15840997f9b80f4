import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import CustomerGroup, Tenant
from core.scopes import Scope

KEY_PREFIX_LEN = 8


def default_scopes() -> list[str]:
    return [Scope.CATALOG_READ, Scope.AI_CHAT]  # a storefront key; write and records scopes are granted explicitly


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Keys that authenticate now: not revoked, and not past the end of a rotation's overlap."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)


class ApiKey(models.Model):
    """A storefront's key: scoped to one tenant and, optionally, one customer group. Stored hashed.

    Rotating a key issues the next key of its `lineage`; answer records, legal holds and conversations bind
    to the lineage, so a rotation orphans none of them (governance/keys.py).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys",
        help_text="Prices and entitlements the key sees; empty: the tenant's retail view.",
    )  # fmt: skip
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=KEY_PREFIX_LEN, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=default_scopes, blank=True, help_text="What the key may call.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    lineage = models.UUIDField(
        default=uuid.uuid4, editable=False, db_index=True,
        help_text="Shared by a key and every key that rotated it.",
    )  # fmt: skip
    expires_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set by a rotation: the old key works until then."
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["tenant", "name", "created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return (prefix, raw key); the raw key is shown once and never stored."""
        prefix = secrets.token_hex(KEY_PREFIX_LEN // 2)
        return prefix, f"ck_{prefix}_{secrets.token_urlsafe(32)}"


class Verdict(models.TextChoices):
    VERIFIED = "verified", "Verified: every claim checked"
    CORRECTED = "corrected", "Corrected: some figures were fixed from the live catalog"
    PARTIAL = "partial", "Partial: unconfirmed claims were removed"
    ABSTAINED = "abstained", "Abstained: nothing could be confirmed"
    REFUSED = "refused", "Refused by the input guardrail"


class Risk(models.TextChoices):
    """The router's risk classes: refunds, warranty, legal, price and age-restricted questions are high."""

    LOW = "low", "Low"
    HIGH = "high", "High"


class AnswerRecord(models.Model):
    """One answer as served (cache hits included): inputs, prompt, versions, evidence, verdict, cost and timings.

    Retention and legal holds act on these rows; `content_hash` fingerprints what was served.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="answers")
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers")
    capability = models.CharField(max_length=20)
    conversation_id = models.UUIDField(null=True, blank=True, db_index=True)
    # The handle as asked about, not a foreign key: the record keeps it after the product is renamed away or
    # deleted, and a held record is never updated by a product's deletion.
    product = models.CharField(
        max_length=120, blank=True, help_text="The handle of the product the question was about (empty: none)."
    )
    locale = models.CharField(max_length=5)
    question = models.TextField()
    history = models.JSONField(default=list, blank=True)
    prompt = models.TextField(blank=True, help_text="System and user message as sent to the provider.")
    template_version = models.ForeignKey(
        "assistant.PromptTemplateVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="answers"
    )
    embedding_space = models.CharField(max_length=120, blank=True)
    reranker_version = models.CharField(max_length=120, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=200, blank=True)
    route_reason = models.CharField(max_length=200, blank=True)
    risk = models.CharField(max_length=10, blank=True, choices=Risk.choices)
    confidence = models.FloatField(default=0)
    retrieved = models.JSONField(default=list, blank=True, help_text="[{chunk_id, citation_id, score}] in rank order.")
    draft = models.TextField(blank=True, help_text="The provider's output before verification.")
    answer = models.TextField(blank=True)
    output = models.JSONField(null=True, blank=True, help_text="classify / generate: the verified JSON.")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    abstain_reason = models.CharField(
        max_length=40, blank=True, help_text="Abstained: why, as a code (e.g. not_answered); empty otherwise."
    )
    unconfirmed = models.JSONField(default=list, blank=True)
    latency_ms = models.JSONField(default=dict, blank=True, help_text="Milliseconds per pipeline step.")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_estimate = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    cache_hit = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Tamper evidence: the tenant's chain. record_hash = sha256(prev_hash, chain_seq, content_hash).
    chain_seq = models.BigIntegerField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    record_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="answer_tenant_recent")]
        constraints = [models.UniqueConstraint(fields=["tenant", "chain_seq"], name="answer_chain_seq")]

    def __str__(self):
        return f"{self.capability} {self.created_at:%Y-%m-%d %H:%M} {self.verdict}"


class AnswerClaim(models.Model):
    """One sentence of the draft and what the verifier did with it (removed claims are kept for review)."""

    class Status(models.TextChoices):
        KEPT = "kept", "Kept"
        CORRECTED = "corrected", "Corrected"
        REMOVED = "removed", "Removed"

    answer = models.ForeignKey(AnswerRecord, on_delete=models.CASCADE, related_name="claims")
    ordinal = models.PositiveIntegerField()
    text = models.TextField(help_text="As served (kept or corrected); as drafted for removed claims.")
    drafted = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["answer", "ordinal"]

    def __str__(self):
        return f"{self.status}: {self.text[:60]}"


class AnswerCitation(models.Model):
    """A claim's citation of one chunk version; chunks are retired, never deleted, so this keeps resolving."""

    answer = models.ForeignKey(AnswerRecord, on_delete=models.CASCADE, related_name="citations")
    claim = models.ForeignKey(AnswerClaim, null=True, blank=True, on_delete=models.CASCADE, related_name="citations")
    number = models.PositiveIntegerField(help_text="The [n] the client sees.")
    citation_id = models.CharField(max_length=250, db_index=True)
    chunk = models.ForeignKey("knowledge.Chunk", on_delete=models.RESTRICT, related_name="answer_citations")

    class Meta:
        ordering = ["answer", "number"]

    def __str__(self):
        return f"[{self.number}] {self.citation_id}"


# Retention, legal holds, audit --------------------------------------------------------------------------


class RecordClass(models.TextChoices):
    ANSWERS = "answers", "Answers"
    CONVERSATIONS = "conversations", "Conversations"
    FEEDBACK = "feedback", "Feedback"
    AUDIT = "audit", "Audit log"


class RetentionPolicy(models.Model):
    """How long a tenant keeps one class of records; the purge task deletes older ones not under a hold."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="retention_policies")
    record_class = models.CharField(max_length=20, choices=RecordClass.choices)
    retain_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(36_500)],
        help_text="Days a record is kept after it is made.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "retention policies"
        constraints = [models.UniqueConstraint(fields=["tenant", "record_class"], name="retention_one_per_class")]

    def __str__(self):
        return f"{self.tenant}: {self.get_record_class_display()} {self.retain_days} days"


class LegalHold(models.Model):
    """A matter's hold over a tenant's records, optionally narrowed; held records cannot change or go."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="legal_holds")
    matter = models.CharField(max_length=200)
    reason = models.TextField()
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Only this customer group's records (empty: every customer).",
    )  # fmt: skip
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Only records made with this key or another key of its lineage (its rotations).",
    )  # fmt: skip
    date_from = models.DateTimeField(null=True, blank=True)
    date_to = models.DateTimeField(null=True, blank=True)
    text_query = models.CharField(
        max_length=200, blank=True, help_text="Only records whose question or answer contains this text."
    )
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        permissions = [("place_legalhold", "Can place and release legal holds")]

    def __str__(self):
        return f"{self.matter} ({'released' if self.released_at else 'active'})"


class AuditEvent(models.Model):
    """Who did what to which governed object; append-only (a trigger refuses updates and deletes)."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"


class PurgeRun(models.Model):
    """One retention purge: what it removed, per class, with the removed answers' chain hashes."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    record_class = models.CharField(max_length=20, choices=RecordClass.choices)
    cutoff = models.DateTimeField()
    purged = models.PositiveIntegerField(default=0)
    skipped_held = models.PositiveIntegerField(default=0)
    removed = models.JSONField(default=list, blank=True, help_text="[[id, chain_seq, record_hash], ...]")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.record_class}: {self.purged} purged"


class PiiToken(models.Model):
    """A reversible PII token: the value encrypted at rest (Fernet, key from PII_VAULT_KEY)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20)
    value_digest = models.CharField(max_length=64, help_text="HMAC of the value: one token per value and tenant.")
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "value_digest"], name="pii_token_per_value")]
        permissions = [("detokenize_piitoken", "Can reveal the values behind PII tokens")]

    def __str__(self):
        return self.token  # never the value


class RatePlan(models.Model):
    """A tenant's limits, enforced in Redis: over one, the API answers 429 naming it, with Retry-After."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="rate_plan")
    name = models.CharField(max_length=60, default="standard")
    requests_per_minute = models.PositiveIntegerField(default=600)
    answers_per_day = models.PositiveIntegerField(default=10_000)
    tokens_per_day = models.PositiveIntegerField(default=2_000_000)

    def __str__(self):
        return f"{self.tenant}: {self.name}"


class ChainHead(models.Model):
    """The last link of a tenant's answer chain: shows a removed tail, and survives purging every record.

    Written only by answer_record_create under the tenant's chain lock; a trigger lets `seq` only grow by one.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    seq = models.BigIntegerField()
    record_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.tenant_id}: {self.seq}"
