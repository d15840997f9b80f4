"""Prompt templates: every edit publishes a new immutable version; answers record the version they used."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from assistant.models import PromptTemplate, PromptTemplateVersion
from assistant.prompts import DEFAULTS, PLACEHOLDERS

_SAMPLE = {name: "" for name in PLACEHOLDERS}


def prompt_text_validate(field: str, text: str) -> None:
    """Raise a ValidationError naming the field when a placeholder is unknown or a brace is unbalanced."""
    try:
        text.format(**_SAMPLE)
    except (KeyError, IndexError, ValueError) as exc:
        allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValidationError({field: f"Use only the placeholders {allowed} (double other braces): {exc}."}) from exc


@transaction.atomic
def prompt_template_save(template: PromptTemplate, *, system: str, body: str, created_by=None) -> PromptTemplate:
    """Set the template's text and publish it as the next version (nothing happens when the text is unchanged)."""
    prompt_text_validate("system", system)
    prompt_text_validate("body", body)
    current = template.current_version
    if current is not None and current.system == system and current.body == body:
        return template
    template.system, template.body = system, body
    template.full_clean(exclude=["current_version"])
    template.save()
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = PromptTemplateVersion.objects.create(
        template=template, number=last + 1, system=system, body=body, created_by=created_by
    )
    PromptTemplate.objects.filter(pk=template.pk).update(current_version=version)
    template.current_version = version
    return template


def prompt_template_current(capability: str) -> PromptTemplateVersion:
    """Return the capability's current version, publishing the built-in default as version 1 on first use."""
    template = PromptTemplate.objects.select_related("current_version").filter(capability=capability).first()
    if template is not None and template.current_version is not None:
        return template.current_version
    system, body = DEFAULTS[capability]
    try:
        with transaction.atomic():
            template = template or PromptTemplate.objects.create(capability=capability, system=system, body=body)
            return prompt_template_save(template, system=system, body=body).current_version
    except IntegrityError:  # another request published the default first
        return PromptTemplate.objects.select_related("current_version").get(capability=capability).current_version
