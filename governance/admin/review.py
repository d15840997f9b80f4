"""The compliance admin: answer records for review (read-only, audited), legal holds, retention, purges, audit log.

Every governed list here is scoped by `governance.review`: a reviewer sees the rows of the tenants they
review (a django-guardian object permission per tenant) and nothing else; superusers see every tenant. A
record, hold, policy, purge run or audit event of another tenant is a 403 on its pages, whether it exists
or not, so the answer never tells a reviewer that it does.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin, ServiceAdminMixin, TenantLockedMixin
from governance.audit import audit_record
from governance.export import ExportTooLarge, records_export
from governance.holds import PERMISSION as HOLD_PERMISSION
from governance.holds import answers_held, legal_hold_place, legal_hold_release
from governance.models import AnswerRecord, AuditEvent, LegalHold, PurgeRun, RatePlan, RetentionPolicy, Risk
from governance.retention import retention_policy_set
from governance.review import (
    answer_record_citations,
    answer_record_claims,
    answer_record_detail_prefetch,
    answer_record_list,
    answer_record_versions,
    reviewer_for_user,
    tenant_list_for_reviewer,
)


def request_reviewer(request):
    """The request's Reviewer, computed once per request."""
    if not hasattr(request, "_governance_reviewer"):
        request._governance_reviewer = reviewer_for_user(request.user)
    return request._governance_reviewer


class TenantScopedAdminMixin:
    """Rows of the tenants the user reviews only; another tenant's row is a 403 on every object page."""

    def get_queryset(self, request):
        reviewer = request_reviewer(request)
        queryset = super().get_queryset(request)
        return queryset if reviewer.tenant_ids is None else queryset.filter(tenant_id__in=reviewer.tenant_ids)

    def visible_object(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        reviewer = request_reviewer(request)
        if db_field.name == "tenant":
            kwargs["queryset"] = tenant_list_for_reviewer(reviewer=reviewer)
        elif db_field.name in ("customer_group", "api_key") and reviewer.tenant_ids is not None:
            kwargs["queryset"] = db_field.related_model.objects.filter(tenant_id__in=reviewer.tenant_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.visible_object(request, object_id)
        if request.method == "GET":
            self.object_viewed(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def object_viewed(self, request, obj) -> None:
        """Hook: the object's page is about to be shown to a user allowed to see it."""

    def history_view(self, request, object_id, extra_context=None):
        self.visible_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self.visible_object(request, object_id)
        return super().delete_view(request, object_id, extra_context)


# Answer records ----------------------------------------------------------------------------------------------


class RiskFilter(admin.SimpleListFilter):
    title = "risk class"
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return Risk.choices

    def queryset(self, request, queryset):
        return queryset.filter(risk=self.value()) if self.value() else queryset


class HeldFilter(admin.SimpleListFilter):
    """Held / not held, by the holds engine's own rule (`answers_held`, the twin of the database guard)."""

    title = "legal hold"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "held"), ("no", "not held")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        return answers_held(queryset).filter(is_held=self.value() == "yes")


def _table(headers: tuple[str, ...], rows) -> str:
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows)
    )
    return format_html('<table class="review-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


@admin.register(AnswerRecord)
class AnswerRecordAdmin(TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Answers as served, for review: read-only, scoped per tenant; every record view is audited."""

    list_display = (
        "created_at", "tenant", "capability", "verdict", "risk", "provider", "cache_hit", "held", "short_question",
    )  # fmt: skip
    list_filter = (
        ("created_at", admin.DateFieldListFilter),
        "verdict",
        RiskFilter,
        HeldFilter,
        "capability",
        "cache_hit",
        ("tenant", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("tenant",)
    search_fields = ("question", "answer")
    date_hierarchy = "created_at"
    actions = ("export_jsonl",)
    fieldsets = (
        (None, {"fields": ("id", "tenant", "created_at", "capability", "locale", "customer_group", "conversation_id")}),
        (
            "Answer",
            {"fields": ("question", "product", "answer", "output", "verdict", "risk", "confidence", "cache_hit")},
        ),
        ("Claims and citations", {"fields": ("claims_table", "citations_table", "unconfirmed")}),
        ("Versions used", {"fields": ("versions_table",)}),
        ("Cost and timings", {"fields": ("latency_table", "prompt_tokens", "completion_tokens", "cost_estimate")}),
        ("Prompt and draft", {"fields": ("prompt", "draft", "history", "retrieved"), "classes": ("collapse",)}),
        ("Tamper evidence and hold", {"fields": ("content_hash", "chain_seq", "prev_hash", "record_hash", "held")}),
    )
    readonly_fields = (
        *(f.name for f in AnswerRecord._meta.fields),
        "claims_table", "citations_table", "versions_table", "latency_table", "held",
    )  # fmt: skip

    def get_queryset(self, request):
        return answers_held(super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        try:
            return answer_record_detail_prefetch(self.get_queryset(request)).get(pk=object_id)
        except (AnswerRecord.DoesNotExist, ValidationError, ValueError):
            return None

    def object_viewed(self, request, obj) -> None:
        # Names the record and the channel, never its content.
        audit_record(action="record.view", actor=request.user, tenant=obj.tenant, obj=obj, detail={"via": "admin"})

    @admin.display(description="question")
    def short_question(self, obj):
        return obj.question[:80]

    @admin.display(description="held", boolean=True)
    def held(self, obj):
        return getattr(obj, "is_held", None)

    @admin.display(description="claims")
    def claims_table(self, obj):
        rows = (
            (c["ordinal"], c["status"], c["text"], "; ".join(map(str, c["reasons"])) or "—",
             " ".join(f"[{n}]" for n in c["citations"]) or "—")
            for c in answer_record_claims(obj)
        )  # fmt: skip
        return _table(("#", "status", "text", "reasons", "cites"), rows)

    @admin.display(description="citations (the exact chunk versions cited)")
    def citations_table(self, obj):
        rows = (
            (f"[{c['number']}]", c["citation_id"], c["title"], c["text"],
             "current" if c["is_current"] else f"retired {c['retired_at']:%Y-%m-%d %H:%M}")
            for c in answer_record_citations(obj)
        )  # fmt: skip
        return _table(("n", "citation id", "title", "text", "version"), rows)

    @admin.display(description="versions")
    def versions_table(self, obj):
        return _table(
            ("", ""), ((name.replace("_", " "), value or "—") for name, value in answer_record_versions(obj).items())
        )

    @admin.display(description="latency (ms per step)")
    def latency_table(self, obj):
        steps = obj.latency_ms if isinstance(obj.latency_ms, dict) else {}
        return _table(("step", "ms"), steps.items()) if steps else "—"

    @admin.action(description="Export selected as JSONL (zip with manifest)")
    def export_jsonl(self, request, queryset):
        reviewer = request_reviewer(request)
        try:
            export = records_export(
                reviewer=reviewer, records=answer_record_list(reviewer=reviewer, queryset=queryset),
                actor=request.user, via="admin",
            )  # fmt: skip
        except ExportTooLarge as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        response = HttpResponse(export.content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response


# Legal holds -------------------------------------------------------------------------------------------------


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ("tenant", "matter", "reason", "customer_group", "api_key", "date_from", "date_to", "text_query")

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant")
        for name in ("customer_group", "api_key"):
            value = cleaned.get(name)
            if tenant is not None and value is not None and value.tenant_id != tenant.pk:
                self.add_error(name, f"“{value}” belongs to another tenant.")
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The range ends before it starts.")
        return cleaned


class HoldStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("released", "released")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "released"):
            return queryset.filter(released_at__isnull=self.value() == "active")
        return queryset


class ReleaseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=2000)


@admin.register(LegalHold)
class LegalHoldAdmin(TenantScopedAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Holds are placed through `legal_hold_place` (the add form) and released with a reason; never edited."""

    form = LegalHoldForm
    list_display = ("matter", "tenant", "status", "placed_by", "placed_at", "released_by", "released_at")
    list_filter = (HoldStatusFilter, ("tenant", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("tenant", "placed_by", "released_by")
    search_fields = ("matter",)
    change_form_template = "admin/governance/legalhold/change_form.html"

    def has_add_permission(self, request):
        return request.user.has_perm(HOLD_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False  # read-only once placed; releasing is its own page

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm(HOLD_PERMISSION)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*LegalHoldForm.Meta.fields, "status", "placed_by", "placed_at", "released_by", "released_at",
                "release_reason")  # fmt: skip

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj is not None else LegalHoldForm.Meta.fields

    @admin.display(description="status", ordering="released_at")
    def status(self, obj):
        return f"released {obj.released_at:%Y-%m-%d %H:%M}" if obj.released_at else "active"

    def service_create(self, request, form):
        values = {k: form.cleaned_data.get(k) for k in LegalHoldForm.Meta.fields}
        return legal_hold_place(placed_by=request.user, **{**values, "text_query": values["text_query"] or ""})

    def get_urls(self):
        release = self.admin_site.admin_view(self.release_view)
        return [path("<path:object_id>/release/", release, name="governance_legalhold_release"), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_release"] = obj is not None and obj.released_at is None and request.user.has_perm(HOLD_PERMISSION)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def release_view(self, request, object_id):
        hold = self.visible_object(request, object_id)
        if not request.user.has_perm(HOLD_PERMISSION):
            raise PermissionDenied
        change_url = reverse("admin:governance_legalhold_change", args=[hold.pk])
        if hold.released_at is not None:
            self.message_user(request, f"“{hold.matter}” was already released.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        form = ReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                legal_hold_release(hold=hold, released_by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:  # released meanwhile by someone else
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                return HttpResponseRedirect(change_url)
            self.message_user(
                request, f"Released “{hold.matter}”: its records are subject to retention again.", messages.SUCCESS
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": hold,
            "form": form,
            "title": f"Release legal hold “{hold.matter}”",
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/governance/legalhold/release.html", context)


# Retention, purge runs, audit log, rate plans ----------------------------------------------------------------


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ("tenant", "record_class", "retain_days")


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(TenantScopedAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Set through `retention_policy_set`, which audits the change; a policy is changed, never deleted here."""

    form = RetentionPolicyForm
    list_display = ("tenant", "record_class", "retain_days", "updated_at")
    list_filter = ("record_class", ("tenant", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("tenant",)

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "record_class") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def _set(self, request, *, tenant, record_class, retain_days):
        return retention_policy_set(
            tenant=tenant, record_class=record_class, retain_days=retain_days, actor=request.user
        )

    def service_create(self, request, form):
        return self._set(request, **form.cleaned_data)

    def service_update(self, request, obj, form):
        return self._set(
            request, tenant=obj.tenant, record_class=obj.record_class, retain_days=form.cleaned_data["retain_days"]
        )


@admin.register(PurgeRun)
class PurgeRunAdmin(TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "tenant", "record_class", "cutoff", "purged", "skipped_held")
    list_filter = ("record_class", ("tenant", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in PurgeRun._meta.fields)


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only audit log; events without a tenant are shown to superusers only."""

    list_display = ("created_at", "action", "tenant", "actor", "object_type", "object_id")
    list_filter = ("action", ("created_at", admin.DateFieldListFilter), ("tenant", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("tenant", "actor")
    search_fields = ("action", "object_id")
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in AuditEvent._meta.fields)


@admin.register(RatePlan)
class RatePlanAdmin(TenantLockedMixin, admin.ModelAdmin):
    list_display = ("tenant", "name", "requests_per_minute", "answers_per_day", "tokens_per_day")
    list_select_related = ("tenant",)
    search_fields = ("tenant__slug", "name")
