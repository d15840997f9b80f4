"""The relevance model registry: trained versions, their data splits and metrics; activate or roll back."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin
from knowledge.models import RelevanceModel
from knowledge.services.relevance import relevance_model_activate, relevance_model_rollback

KEY_METRICS = ("report.first_relevant", "report.bm25.first_relevant")


@admin.register(RelevanceModel)
class RelevanceModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows come from `train_reranker` or `relevance_model register`; the admin only switches between them."""

    list_display = ("name", "version", "is_active", "threshold", "dataset_names", "key_metrics", "created_at")
    list_filter = ("is_active", "name")
    actions = ("activate", "rollback")
    fields = (
        "name", "version", "is_active", "activated_at", "threshold", "locales", "path", "dataset_table",
        "split_sizes", "metrics_table", "created_at",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="datasets")
    def dataset_names(self, obj):
        return ", ".join(d.get("name", "?") for d in obj.datasets) or "—"

    @admin.display(description="report metrics")
    def key_metrics(self, obj):
        figures = [(k, v) for k, v in sorted(obj.metrics.items()) if k.endswith(KEY_METRICS) and v is not None]
        return "; ".join(f"{k.replace('.report', '')} {v:.3f}" for k, v in figures) or "—"

    @admin.display(description="datasets")
    def dataset_table(self, obj):
        rows = ((d.get("name", "?"), d.get("pairs", ""), d.get("path", "")) for d in obj.datasets)
        return _table(("dataset", "pairs", "folder"), rows)

    @admin.display(description="split (ids per part)")
    def split_sizes(self, obj):
        rows = (
            (name, part.get("unit", ""), *(len(part.get(k, ())) for k in ("train", "calibrate", "report")))
            for name, part in sorted(obj.split.items())
        )
        return _table(("dataset", "unit", "train", "calibrate", "report"), rows)

    @admin.display(description="metrics")
    def metrics_table(self, obj):
        rows = ((k, f"{v:.4f}" if isinstance(v, float) else v) for k, v in sorted(obj.metrics.items()))
        return _table(("metric", "value"), rows)

    @admin.action(description="Activate")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one model to activate.", messages.ERROR)
            return
        model = relevance_model_activate(model=queryset.get())
        self.message_user(request, f"{model.label} is now the active relevance model.", messages.SUCCESS)

    @admin.action(description="Roll back to the previous model")
    def rollback(self, request, queryset):
        active = RelevanceModel.objects.filter(is_active=True).first()
        if active is None:
            self.message_user(request, "No relevance model is active: nothing to roll back.", messages.WARNING)
            return
        model = relevance_model_rollback()
        if model is None:
            self.message_user(
                request, f"{active.label} deactivated; no earlier model, none is active.", messages.WARNING
            )
        else:
            self.message_user(request, f"Rolled back from {active.label} to {model.label}.", messages.SUCCESS)


def _table(header, rows):
    head = format_html_join("", "<th>{}</th>", ((h,) for h in header))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in r)),) for r in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)
