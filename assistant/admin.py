"""Prompt templates: editors change the text; each save publishes a new immutable version answers refer to."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from assistant.models import PromptTemplate, PromptTemplateVersion
from assistant.services.templates import prompt_template_save, prompt_text_validate
from core.admin import ReadOnlyAdminMixin, ServiceAdminMixin


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
