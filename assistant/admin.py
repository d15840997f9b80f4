"""Prompt templates (editors change the text; each save publishes a new immutable version answers refer to),
unanswered questions (what shoppers asked about a product that its information does not answer) and
conversations (read-only, for review)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from assistant.models import Conversation, ConversationTurn, PromptTemplate, PromptTemplateVersion, UnansweredQuestion
from assistant.selectors import unanswered_question_products, unanswered_questions
from assistant.services.templates import prompt_template_save, prompt_text_validate
from core.admin import ReadOnlyAdminMixin, ServiceAdminMixin
from governance.admin.review import TenantScopedAdminMixin


class PromptTemplateForm(forms.ModelForm):
    class Meta:
        model = PromptTemplate
        fields = ("capability", "system", "body")

    def clean(self):
        cleaned = super().clean()
        for name in ("system", "body"):
            if cleaned.get(name):
                try:
                    prompt_text_validate(name, cleaned[name])
                except ValidationError as exc:
                    self.add_error(name, exc.message_dict[name])
        return cleaned


class PromptTemplateVersionInline(admin.TabularInline):
    model = PromptTemplateVersion
    fields = ("number", "created_at", "created_by", "system", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PromptTemplate)
class PromptTemplateAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = PromptTemplateForm
    list_display = ("capability", "current_version", "updated_at")
    list_select_related = ("current_version__template",)
    readonly_fields = ("current_version",)
    inlines = (PromptTemplateVersionInline,)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "capability") if obj is not None else self.readonly_fields

    def service_create(self, request, form):
        template = PromptTemplate(capability=form.cleaned_data["capability"])
        data = form.cleaned_data
        return prompt_template_save(template, system=data["system"], body=data["body"], created_by=request.user)

    def service_update(self, request, obj, form):
        data = form.cleaned_data
        return prompt_template_save(obj, system=data["system"], body=data["body"], created_by=request.user)


@admin.register(PromptTemplateVersion)
class PromptTemplateVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("template", "number", "created_at", "created_by")
    list_filter = ("template",)
    list_select_related = ("template", "created_by")


class UnansweredProductFilter(admin.SimpleListFilter):
    """The products asked about, each with how many of its questions went unanswered."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request, model_admin):
        return [(handle, f"{handle} ({count})") for handle, count in unanswered_question_products()]

    def queryset(self, request, queryset):
        return queryset.filter(product=self.value()) if self.value() else queryset


@admin.register(UnansweredQuestion)
class UnansweredQuestionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Product questions the assistant abstained on, for editors to fill the gaps (read-only).

    Shows the question as the answer record keeps it (personal data as vault tokens), never the draft or prompt.
    """

    list_display = ("created_at", "product_link", "short_question", "reason", "locale", "tenant")
    list_filter = (UnansweredProductFilter, ("tenant", admin.RelatedOnlyFieldListFilter), "locale")
    list_select_related = ("tenant",)
    search_fields = ("question", "product")
    date_hierarchy = "created_at"
    fields = ("created_at", "tenant", "product_link", "question", "reason", "locale", "capability")
    readonly_fields = fields

    def get_queryset(self, request):
        return unanswered_questions().select_related("tenant")

    @admin.display(description="product", ordering="product")
    def product_link(self, obj):
        if obj.product_pk is None:
            return obj.product  # no product of the tenant has that handle any more
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:catalog_product_change", args=[obj.product_pk]), obj.product
        )

    @admin.display(description="question")
    def short_question(self, obj):
        return obj.question[:100]

    @admin.display(description="reason", ordering="abstain_reason")
    def reason(self, obj):
        return obj.abstain_reason.replace("_", " ") or "-"


# Conversations -----------------------------------------------------------------------------------------------


class ConversationTurnInline(admin.TabularInline):
    model = ConversationTurn
    fields = ("created_at", "product", "question", "answer", "record_link")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "pk")

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("assistant.view_conversation")  # the turns are the conversation's own rows

    @admin.display(description="answer record")
    def record_link(self, turn):
        if turn.answer_record_id is None:
            return "–"
        url = reverse("admin:governance_answerrecord_change", args=[turn.answer_record_id])
        return format_html('<a href="{}">{}</a>', url, str(turn.answer_record_id)[:8])


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Chats as their callers held them: who may continue one, the product it began about, its turns
    (questions as retained on their answer records, PII as vault tokens). Read-only, scoped per tenant."""

    list_display = ("id", "tenant", "product", "customer_group", "turn_count", "created_at", "last_used_at")
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter), ("last_used_at", admin.DateFieldListFilter))
    list_select_related = ("tenant", "product", "customer_group")
    search_fields = ("turns__question",)
    date_hierarchy = "last_used_at"
    fields = ("id", "tenant", "key_lineage", "customer_group", "product", "created_at", "last_used_at")
    inlines = (ConversationTurnInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(turns_total=Count("turns"))

    @admin.display(description="turns", ordering="turns_total")
    def turn_count(self, conversation):
        return conversation.turns_total
