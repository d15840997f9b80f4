"""Admin building blocks shared by every app: the index-status column and filter, re-index, saves via services,
and model forms scoped to one tenant.

The admin never calls `save()` on an indexable row: services mark the change and schedule indexing on commit.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import F
from django.utils.html import format_html
from django.utils.text import Truncator

from core.indexable import PENDING, index_enqueue

BADGE_COLOURS = {"fresh": "#2e7d32", "pending": "#b26a00", "failed": "#c62828"}
BADGE_STYLE = "color:#fff;background:{};padding:1px 7px;border-radius:9px;white-space:nowrap;font-size:11px"
ERROR_PREVIEW = 120  # characters of an indexing error shown in a list row; the tooltip holds the rest


def index_status_label(obj) -> tuple[str, str]:
    """Return (state, label): "fresh", "pending (lag N s)" or "failed: <error>"."""
    state, detail = obj.index_status()
    if state == "pending":
        return state, f"pending (lag {detail})" if detail else "pending"
    if state == "failed":
        return state, f"failed: {detail}"
    return state, state


class IndexStatusFilter(admin.SimpleListFilter):
    """Filter by index status with the same rule the sweep uses (two hashes that differ)."""

    title = "index status"
    parameter_name = "index_status"

    def lookups(self, request, model_admin):
        return [("fresh", "fresh"), ("pending", "pending"), ("failed", "failed")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "fresh":
            return queryset.filter(content_hash=F("indexed_hash"))
        if value == "pending":
            return queryset.filter(PENDING, index_error="")
        if value == "failed":
            return queryset.filter(PENDING).exclude(index_error="")
        return queryset


class IndexedAdminMixin:
    """The index-status badge and the "Re-index selected" action for an indexable source's admin."""

    index_kind: str = ""  # a core.indexable.SourceKind

    @admin.display(description="index")
    def index_status_badge(self, obj):
        state, label = index_status_label(obj)
        style = BADGE_STYLE.format(BADGE_COLOURS[state])
        short = Truncator(label).chars(ERROR_PREVIEW)
        return format_html('<span class="index-{}" style="{}" title="{}">{}</span>', state, style, label, short)

    @admin.action(description="Re-index selected")
    def reindex_selected(self, request, queryset):
        ids = sorted(queryset.values_list("pk", flat=True))
        index_enqueue(self.index_kind, ids)
        noun = queryset.model._meta.verbose_name if len(ids) == 1 else queryset.model._meta.verbose_name_plural
        self.message_user(
            request, f"Queued {len(ids)} {noun} for re-indexing; the index column turns fresh when done.", messages.INFO
        )


def form_values(form, allowed: tuple[str, ...]) -> dict:
    """Return the cleaned values of the form's editable fields that a service accepts."""
    return {name: form.cleaned_data[name] for name in allowed if name in form.fields and name in form.cleaned_data}


def refetch(obj):
    """Return a locked fresh copy of `obj` (the form already wrote its input onto `obj` itself)."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


def adopt(target, saved) -> None:
    """Make the admin's in-memory object the row a service saved (pk, version, generated hash)."""
    if target is saved:
        return
    for field in saved._meta.concrete_fields:
        if field.attname in saved.__dict__:
            target.__dict__[field.attname] = saved.__dict__[field.attname]
        else:  # deferred after save (a generated column): read it from the database when asked
            target.__dict__.pop(field.attname, None)
    target._state.adding = False
    target._state.db = saved._state.db


class ServiceAdminMixin:
    """Route the admin's saves and deletes through services; a hook returning None means "no service"."""

    def service_create(self, request, form):
        """Create the row from the form through its service; return the saved row."""
        return None

    def service_update(self, request, obj, form):
        """Update `obj` (a fresh, locked copy) from the form through its service; return the saved row."""
        return None

    def service_delete(self, request, obj) -> bool:
        """Delete `obj` through its service; return False when there is none."""
        return False

    def save_model(self, request, obj, form, change):
        saved = self.service_update(request, refetch(obj), form) if change else self.service_create(request, form)
        if saved is None:  # a plain, non-indexable row without a service for this write
            super().save_model(request, obj, form, change)
        else:
            adopt(obj, saved)

    def delete_model(self, request, obj):
        if not self.service_delete(request, obj):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # "delete selected" runs outside the admin's transaction: all or nothing
            for obj in queryset:
                self.delete_model(request, obj)


def formset_save(formset, *, create: Callable, update: Callable, delete: Callable) -> None:
    """Save an inline formset through services and record what changed for the admin's history message.

    `create(form)` and `update(fresh_obj, form)` return the saved row; `delete(obj)` removes one.
    """
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.initial_forms:
        obj = form.instance
        if obj.pk is None:
            continue
        if formset.can_delete and formset._should_delete_form(form):
            delete(obj)
            formset.deleted_objects.append(obj)
        elif form.has_changed():
            formset.changed_objects.append((update(refetch(obj), form), form.changed_data))
    for form in formset.extra_forms:
        if form.has_changed() and not (formset.can_delete and formset._should_delete_form(form)):
            formset.new_objects.append(create(form))


class ReadOnlyAdminMixin:
    """Viewable, never added, changed or deleted through the admin (immutable history, derived rows)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TenantLockedMixin:
    """The tenant is chosen on add and read-only afterwards (services never move rows between tenants)."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "tenant") if obj is not None else fields


# Forms ---------------------------------------------------------------------------------------------------------
# A row's tenant is read-only once it exists (and a SKU's comes from its product), so Django's own per-tenant
# unique checks never run on those forms; without these checks the service's `full_clean` or the database
# constraint would turn a duplicate into a server error instead of a form error.


def tenant_value_taken(model, tenant_id: int, field: str, value, exclude_pks=()) -> bool:
    return model._default_manager.filter(tenant_id=tenant_id, **{field: value}).exclude(pk__in=exclude_pks).exists()


class TenantScopedForm(forms.ModelForm):
    """A model form whose rows belong to one tenant; `tenant_unique` fields must be unique within it."""

    tenant_unique: tuple[str, ...] = ()

    def form_tenant_id(self) -> int | None:
        if "tenant" in self.fields:
            tenant = self.cleaned_data.get("tenant")
            return tenant.pk if tenant else None
        return self.instance.tenant_id

    def clean(self):
        cleaned = super().clean()
        tenant_id = self.form_tenant_id()
        if tenant_id is None or "tenant" in self.fields:
            return cleaned  # with the tenant in the form, Django's unique-constraint check covers it
        for name in self.tenant_unique:
            value = cleaned.get(name)
            excluded = [self.instance.pk] if self.instance.pk else []
            if value and tenant_value_taken(self._meta.model, tenant_id, name, value, excluded):
                label = self.fields[name].label or name
                self.add_error(name, f"{label} “{value}” is already used in this tenant.")
        return cleaned

    def check_same_tenant(self, name: str) -> None:
        """Reject a related row (category, price list, ...) that belongs to another tenant."""
        related, tenant_id = self.cleaned_data.get(name), self.form_tenant_id()
        if related is not None and tenant_id is not None and related.tenant_id != tenant_id:
            self.add_error(name, f"“{related}” belongs to another tenant.")
