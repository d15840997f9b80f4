import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.models import CustomerGroup, Product, Tenant
from governance.models import AnswerRecord


class Capability(models.TextChoices):
    CHAT = "chat", "Chat"
    SEARCH = "search", "Search summary"
    SUMMARIZE = "summarize", "Summarize"
    CLASSIFY = "classify", "Classify"
    GENERATE = "generate", "Generate"


ANSWERING = (Capability.CHAT.value, Capability.SEARCH.value)  # they answer a question; the others answer none


class PromptTemplate(models.Model):
    """A capability's prompt, edited in the admin; every change is frozen into a new PromptTemplateVersion."""

    capability = models.CharField(max_length=20, choices=Capability.choices, unique=True)
    system = models.TextField(help_text="The instructions sent as the system message.")
    body = models.TextField(
        help_text="The user message. Placeholders: {question}, {history}, {passages}, {locale}, {customer_group}, "
        "{price_list}, {product}."
    )
    current_version = models.ForeignKey(
        "PromptTemplateVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["capability"]

    def __str__(self):
        return f"{self.get_capability_display()} prompt"


class PromptTemplateVersion(models.Model):
    """An immutable prompt version; each answer record points at the one it was built from."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    system = models.TextField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="prompt_version_unique")]

    def __str__(self):
        return f"{self.template.capability}@{self.number}"


class Conversation(models.Model):
    """A chat's thread: who may continue it, the product it began about, and its turns.

    Only the same tenant, API key lineage (empty: staff sessions) and customer group continue it
    (`assistant.selectors.conversation_get`). Its id is the answer records' `conversation_id`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="conversations")
    key_lineage = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="The lineage of the API key that began it; empty: staff."
    )
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="conversations"
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations",
        help_text="The product the first turn was about.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_used_at"]

    def __str__(self):
        return f"conversation {self.pk}"


class ConversationTurn(models.Model):
    """One question and the answer served, as retained on its answer record (PII as vault tokens).

    A turn goes with its answer record: a retention purge of the record removes the turn too.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    question = models.TextField()
    answer = models.TextField(blank=True)
    answer_record = models.ForeignKey(
        "governance.AnswerRecord", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.CharField(
        max_length=120, blank=True, help_text="The handle of the product the turn was about (empty: none)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "created_at", "pk"]

    def __str__(self):
        return f"{self.conversation_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class UnansweredQuestion(AnswerRecord):
    """An answer record seen as a product question the assistant could not answer (for content editors).

    A read-only view of abstained chat and search records about a product (`selectors.unanswered_questions`):
    what shoppers ask that the product's information does not say.
    """

    class Meta:
        proxy = True
        verbose_name = "unanswered question"
        ordering = ["-created_at"]
