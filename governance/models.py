import hashlib
import secrets
import uuid

from django.db import models

from catalog.models import CustomerGroup, Tenant

KEY_PREFIX_LEN = 8


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A storefront's key: scoped to one tenant and, optionally, one customer group. Stored hashed."""

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
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["tenant", "name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

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


class AnswerRecord(models.Model):
    """One answer as served (cache hits included): inputs, prompt, versions, evidence, verdict, cost and timings.

    Retention and legal holds (issue 5) act on these rows; `content_hash` fingerprints what was served.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="answers")
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers")
    capability = models.CharField(max_length=20)
    conversation_id = models.UUIDField(null=True, blank=True, db_index=True)
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
    risk = models.CharField(max_length=10, blank=True)
    confidence = models.FloatField(default=0)
    retrieved = models.JSONField(default=list, blank=True, help_text="[{chunk_id, citation_id, score}] in rank order.")
    draft = models.TextField(blank=True, help_text="The provider's output before verification.")
    answer = models.TextField(blank=True)
    output = models.JSONField(null=True, blank=True, help_text="classify / generate: the verified JSON.")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    unconfirmed = models.JSONField(default=list, blank=True)
    latency_ms = models.JSONField(default=dict, blank=True, help_text="Milliseconds per pipeline step.")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_estimate = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    cache_hit = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="answer_tenant_recent")]

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
