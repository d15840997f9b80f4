from django.conf import settings
from django.db import models


class Capability(models.TextChoices):
    CHAT = "chat", "Chat"
    SEARCH = "search", "Search summary"
    SUMMARIZE = "summarize", "Summarize"
    CLASSIFY = "classify", "Classify"
    GENERATE = "generate", "Generate"


class PromptTemplate(models.Model):
    """A capability's prompt, edited in the admin; every change is frozen into a new PromptTemplateVersion."""

    capability = models.CharField(max_length=20, choices=Capability.choices, unique=True)
    system = models.TextField(help_text="The instructions sent as the system message.")
    body = models.TextField(
        help_text="The user message. Placeholders: {question}, {history}, {passages}, {locale}, {customer_group}, "
        "{price_list}."
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
