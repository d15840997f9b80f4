"""The governance admin: API keys are issued and rotated here; a raw key is shown once, only its hash is stored."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.admin import adopt
from core.scopes import Scope
from governance import keys
from governance.admin import review  # noqa: F401 - registers the compliance admins (records, holds, audit)
from governance.models import ApiKey, default_scopes

SHOWN_ONCE = "copy it now: it is shown only this once."


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
        return [("active", "active"), ("expired", "expired (rotated)"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.usable()
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


def _key_word(count: int) -> str:
    return f"{count} key{'s' if count != 1 else ''}"


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = (
        "name", "prefix", "tenant", "customer_group", "scope_list", "status", "lineage_short", "created_at",
        "last_used_at",
    )  # fmt: skip
    list_filter = ("tenant", RevokedFilter)
    list_select_related = ("tenant", "customer_group__tenant")
    search_fields = ("name", "prefix", "lineage")
    readonly_fields = ("prefix", "lineage", "created_at", "last_used_at", "expires_at", "revoked_at")
    actions = ("rotate", "revoke", "revoke_lineage")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "tenant") if obj is not None else ()

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes or ()) or "none"

    @admin.display(description="status", ordering="revoked_at")
    def status(self, obj):
        if obj.revoked_at:
            return f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}"
        if obj.expires_at:
            verb = "expires" if obj.is_usable() else "expired"
            return f"rotated; {verb} {obj.expires_at:%Y-%m-%d %H:%M}"
        return "active"

    @admin.display(description="lineage", ordering="lineage")
    def lineage_short(self, obj):
        return str(obj.lineage)[:8]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = keys.api_key_create(
            tenant=obj.tenant, name=obj.name, customer_group=obj.customer_group, scopes=obj.scopes, actor=request.user
        )
        adopt(obj, issued.key)
        self.message_user(request, f"The key for “{obj.name}” is {issued.raw} — {SHOWN_ONCE}", messages.SUCCESS)

    @admin.action(description="Rotate selected keys (the old key keeps working for the overlap)")
    def rotate(self, request, queryset):
        overlap = keys.default_overlap()
        for key in queryset.order_by("pk"):
            try:
                issued = keys.api_key_rotate(key, overlap=overlap, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                continue
            until = f"{timezone.localtime(timezone.now() + overlap):%Y-%m-%d %H:%M}"
            message = f"The new key for “{key.name}” is {issued.raw} — {SHOWN_ONCE} {key.prefix}… works until {until}."
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        count = sum(keys.api_key_revoke(key, actor=request.user) for key in queryset.select_related("tenant"))
        self.message_user(request, f"Revoked {_key_word(count)}; requests with them now get 401.")

    @admin.action(description="Revoke every key of the selected keys' lineages")
    def revoke_lineage(self, request, queryset):
        lineages = set(queryset.values_list("lineage", flat=True))
        count = sum(keys.api_key_lineage_revoke(lineage, actor=request.user) for lineage in lineages)
        self.message_user(request, f"Revoked {_key_word(count)} in {len(lineages)} lineage(s); they now get 401.")
