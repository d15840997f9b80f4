"""The change-event admin: sources are created here with a secret shown once; rotating shows the new one once.

Secrets are never shown after that (only their fingerprints). Received events are read-only.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.admin import ReadOnlyAdminMixin, ServiceAdminMixin, TenantLockedMixin
from knowledge.ingestion import event_sources
from knowledge.models import EventSecret, EventSource, ReceivedEvent

SHOWN_ONCE = "copy it now: it is shown only this once."


class EventSecretInline(admin.TabularInline):
    model = EventSecret
    fields = ("fingerprint", "created_at", "expires_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EventSource)
class EventSourceAdmin(TenantLockedMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("name", "tenant", "status", "created_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant",)
    search_fields = ("name",)
    fields = ("tenant", "name", "created_at", "revoked_at")
    readonly_fields = ("created_at", "revoked_at")
    inlines = [EventSecretInline]
    actions = ("rotate", "revoke")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "name") if obj is not None else fields  # the name is the sender's URL

    @admin.display(description="status", ordering="revoked_at")
    def status(self, obj):
        return f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}" if obj.revoked_at else "active"

    def service_create(self, request, form):
        issued = event_sources.event_source_create(tenant=form.cleaned_data["tenant"], name=form.cleaned_data["name"])
        message = f"The signing secret of “{issued.source.name}” is {issued.secret} — {SHOWN_ONCE}"
        self.message_user(request, message, messages.SUCCESS)
        return issued.source

    def service_update(self, request, obj, form):
        return obj  # nothing to change: the tenant and the name are fixed once made

    @admin.action(description="Rotate the secret (the previous one verifies for the overlap)")
    def rotate(self, request, queryset):
        overlap = event_sources.default_overlap()
        for source in queryset.order_by("pk"):
            try:
                issued = event_sources.event_source_rotate(source, overlap=overlap)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                continue
            until = f"{timezone.localtime(timezone.now() + overlap):%Y-%m-%d %H:%M}"
            message = (
                f"The new signing secret of “{source.name}” is {issued.secret} — {SHOWN_ONCE} "
                f"The previous one verifies until {until}."
            )
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Revoke selected sources")
    def revoke(self, request, queryset):
        count = sum(event_sources.event_source_revoke(source) for source in queryset)
        self.message_user(request, f"Revoked {count} source(s); their events now get 401.")


@admin.register(ReceivedEvent)
class ReceivedEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event_id", "source", "event_type", "entity", "version", "occurred_at", "outcome", "action",
                    "received_at")  # fmt: skip
    list_filter = ("outcome", "event_type", "source")
    list_select_related = ("source",)
    search_fields = ("event_id", "entity")
