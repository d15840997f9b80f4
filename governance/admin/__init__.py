"""The governance admin: API keys are issued here; the raw key is shown once and only its hash is stored."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from core.scopes import Scope
from governance.admin import review  # noqa: F401 - registers the compliance admins (records, holds, audit)
from governance.models import ApiKey, default_scopes, hash_key


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=default_scopes,
        help_text=(
            "What the key may call: catalog:write is for the shop's own systems that feed the catalog, records "
            "scopes are for compliance tools; a storefront needs neither."
        ),
    )

    class Meta:
        model = ApiKey
        fields = ("tenant", "customer_group", "name", "scopes")

    def clean(self):
        cleaned = super().clean()
        tenant, group = cleaned.get("tenant") or getattr(self.instance, "tenant", None), cleaned.get("customer_group")
        if tenant is not None and group is not None and group.tenant_id != tenant.pk:
            self.add_error("customer_group", f"“{group}” belongs to another tenant.")
        return cleaned


class RevokedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


def api_key_issue(key: ApiKey) -> str:
    """Give an unsaved key its prefix and hash, save it, and return the raw key (never stored)."""
    key.prefix, raw = ApiKey.generate()
    key.key_hash = hash_key(raw)
    key.full_clean()
    key.save()
    return raw


def api_keys_revoke(queryset) -> int:
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "tenant", "customer_group", "scope_list", "status", "created_at", "last_used_at")
    list_filter = ("tenant", RevokedFilter)
    list_select_related = ("tenant", "customer_group__tenant")
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "tenant") if obj is not None else ()

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes or ()) or "none"

    @admin.display(description="status", ordering="revoked_at")
    def status(self, obj):
        return f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}" if obj.revoked_at else "active"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        raw = api_key_issue(obj)
        self.message_user(
            request, f"The key for “{obj.name}” is {raw} — copy it now: it is shown only this once.", messages.SUCCESS
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        count = api_keys_revoke(queryset)
        self.message_user(request, f"Revoked {count} key{'s' if count != 1 else ''}; requests with them now get 401.")
