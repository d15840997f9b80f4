"""Feed runs in the admin: every run with its profile (a change-event hour's too, computed on the fly while it
is not stored yet); held runs with their report and changes, applied or discarded by an editor; per-tenant charts
of drift and freshness; the tenants' thresholds."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from catalog.models import Tenant
from knowledge.admin.charts import Guide, Point, bar_chart, time_chart
from knowledge.ingestion.event_profiles import event_hour_profile, is_event_hour, is_profiled
from knowledge.ingestion.held import held_run_approve, held_run_discard
from knowledge.ingestion.profile import ACTIONS, PSI_MAJOR, PSI_MODERATE, count_totals
from knowledge.models import IngestionRun, IngestionSettings, StagedRecord

SHOWN_ROWS = 200  # report and change rows a run's page lists; the CSV report holds every problem
SHOWN_FIELDS = 15  # fields in a run's drift table and chart, by how far they moved
CHART_RUNS = 60  # newest runs of a tenant the charts plot
PSI_GUIDES = (Guide(PSI_MODERATE, f"{PSI_MODERATE} moderate"), Guide(PSI_MAJOR, f"{PSI_MAJOR} major"))
REVIEW_PERMISSION = "knowledge.review_ingestionrun"
COMPUTED_NOW = "profile_computed_now"  # set on a run whose profile the page computed and did not store
EMPTY = format_html("—")


def psi_reading(value: float) -> str:
    return "major shift" if value > PSI_MAJOR else "moderate" if value > PSI_MODERATE else "stable"


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _table(head: tuple[str, ...], rows) -> str:
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    cells = ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    body = format_html_join("", "<tr>{}</tr>", cells)
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, body)


@admin.register(IngestionRun)
class IngestionRunAdmin(admin.ModelAdmin):
    """Runs are written by the importer; here they are read, and held ones applied or discarded."""

    list_display = ("id", "tenant", "origin", "feed", "state", "created_at", "lines", "rejected", "why_held",
                    "largest_drift", "pii", "freshness")  # fmt: skip
    list_display_links = ("id", "feed")
    list_filter = ("state", "origin", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("source",)
    actions = ("apply_held", "discard_held")
    change_form_template = "admin/knowledge/ingestionrun/change_form.html"
    change_list_template = "admin/knowledge/ingestionrun/change_list.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tenant",
                    "origin",
                    "source",
                    "state",
                    "created_at",
                    "finished_at",
                    "reviewed_by",
                    "reviewed_at",
                    "report_path",
                )
            },
        ),  # fmt: skip
        ("Why it is held", {"fields": ("held_because",)}),
        ("Validation report (line, field, problem)", {"fields": ("report_table",)}),
        ("Changes", {"fields": ("diff_table",)}),
        ("Profile", {"fields": ("counts_table", "drift_table", "drift_chart", "pii_table", "freshness_text")}),
    )
    readonly_fields = ("held_because", "report_table", "diff_table", "counts_table", "drift_table", "drift_chart",
                       "pii_table", "freshness_text")  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW_PERMISSION)

    def get_object(self, request, object_id, from_field=None):
        """A change-event hour without a stored profile yet (the current hour) is shown profiled as of now."""
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and is_event_hour(obj) and not is_profiled(obj):
            obj.profile = event_hour_profile(obj)  # never saved: the page changes nothing
            setattr(obj, COMPUTED_NOW, True)
        return obj

    # The list --------------------------------------------------------------------------------------------------

    @admin.display(description="feed", ordering="source")
    def feed(self, obj):
        return Truncator(obj.source).chars(60)

    @admin.display(description="lines")
    def lines(self, obj):
        return sum(count_totals(obj.counts).values()) if obj.counts else "—"

    @admin.display(description="rejected")
    def rejected(self, obj):
        return count_totals(obj.counts)["rejected"] if obj.counts else "—"

    @admin.display(description="held because")
    def why_held(self, obj):
        if obj.state != IngestionRun.State.HELD:
            return "—"
        return Truncator("; ".join(reason["detail"] for reason in obj.held_reasons)).chars(120)

    @admin.display(description="largest drift (PSI)")
    def largest_drift(self, obj):
        drift = obj.profile.get("drift") or {}
        if not drift.get("previous_run"):
            return "—"
        return f"{drift['max_psi']:.3f} ({psi_reading(drift['max_psi'])})"

    @admin.display(description="PII")
    def pii(self, obj):
        flagged = obj.profile.get("pii") or {}
        return f"{len(flagged)} field(s)" if flagged else "—"

    @admin.display(description="searchable after")
    def freshness(self, obj):
        fresh = obj.profile.get("freshness") or {}
        if fresh.get("seconds") is not None:
            return seconds_text(fresh["seconds"])
        return "indexing" if obj.state == IngestionRun.State.APPLIED and obj.profile else "—"

    # A run's page ----------------------------------------------------------------------------------------------

    @admin.display(description="reasons")
    def held_because(self, obj):
        if not obj.held_reasons:
            return EMPTY
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", (
            (r["trigger"], r["detail"]) for r in obj.held_reasons)))  # fmt: skip

    @admin.display(description="problems")
    def report_table(self, obj):
        records = StagedRecord.objects.filter(run=obj).exclude(problems=[]).order_by("source", "line", "id")
        rows = [
            (r.source or "--prune", r.line or "—", r.record_type, r.key, p.get("field") or "—", p.get("problem"))
            for r in records[:SHOWN_ROWS] for p in r.problems
        ]  # fmt: skip
        if not rows:
            return format_html("No problems.")
        note = format_html("<p>The first {} rows; the CSV report has every one: {}</p>", SHOWN_ROWS, obj.report_path)
        return format_html("{}{}", _table(("file", "line", "type", "key", "field", "problem"), rows), note)

    @admin.display(description="new, changed and deleted rows")
    def diff_table(self, obj):
        writes = StagedRecord.objects.filter(run=obj, action__in=StagedRecord.WRITES).order_by("phase", "id")
        rows = [
            (r.action, r.record_type, r.key, f"{r.source}:{r.line}" if r.line else "--prune",
             ", ".join(r.changes) or ("all fields" if r.action == "new" else "—"), "yes" if r.applied else "no")
            for r in writes[:SHOWN_ROWS]
        ]  # fmt: skip
        if not rows:
            return format_html("Nothing to write: every row is unchanged or rejected.")
        table = _table(("action", "type", "key", "where", "fields changed", "applied"), rows)
        return format_html("{}<p>Up to {} rows, parents first.</p>", table, SHOWN_ROWS)

    @admin.display(description="counts")
    def counts_table(self, obj):
        if not obj.counts:
            return EMPTY
        actions = (*ACTIONS, "stale") if is_event_hour(obj) else ACTIONS
        rows = [(t, *(c.get(a, 0) for a in actions)) for t, c in sorted(obj.counts.items())]
        rows.append(("all", *(sum(c.get(a, 0) for c in obj.counts.values()) for a in actions)))
        applied = obj.profile.get("counts", {})
        note = f"Applied {applied['applied']:,}, failed {applied['failed']:,}." if "applied" in applied else ""
        if getattr(obj, COMPUTED_NOW, False):
            note += " The profile below is computed as of now, not stored: it is stored once the hour has closed."
        return format_html("{}<p>{}</p>", _table(("type", *actions), rows), note)

    @admin.display(description="drift")
    def drift_table(self, obj):
        drift = obj.profile.get("drift") or {}
        if not drift.get("previous_run"):
            if is_event_hour(obj):
                return format_html("No earlier hour of this source with applied events to compare with.")
            return format_html("No earlier applied run of this tenant and origin to compare with.")
        previous = reverse("admin:knowledge_ingestionrun_change", args=[drift["previous_run"]])
        rows = [(m["field"], m["kind"], f"{m['psi']:.4f}", psi_reading(m["psi"]), _moved(m))
                for m in drift["fields"][:SHOWN_FIELDS]]  # fmt: skip
        changes = [f"{c['field']}: {c['from']} → {c['to']}" for c in drift["type_changes"]]
        return format_html(
            '<p>Against <a href="{}">run {}</a>. New fields: {}. Vanished: {}. Type changes: {}.</p>{}',
            previous, drift["previous_run"], ", ".join(drift["appeared"]) or "none",
            ", ".join(drift["vanished"]) or "none", "; ".join(changes) or "none",
            _table(("field", "measured on", "PSI", "reading", "moved"), rows),
        )  # fmt: skip

    @admin.display(description="drift by field")
    def drift_chart(self, obj):
        moved = (obj.profile.get("drift") or {}).get("fields", [])[:SHOWN_FIELDS]
        bars = [(m["field"], m["psi"]) for m in moved]
        return bar_chart(title="Distribution shift per field (PSI)", x_label="PSI", bars=bars,
                                guides=PSI_GUIDES)  # fmt: skip

    @admin.display(description="PII found")
    def pii_table(self, obj):
        flagged = obj.profile.get("pii") or {}
        if not flagged:
            return format_html("None found.")
        rows = [(name, ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))) for name, kinds in flagged.items()]
        table = _table(("field", "values holding PII"), rows)
        return format_html("{}<p>Only fields and counts are kept, never the values.</p>", table)

    @admin.display(description="freshness")
    def freshness_text(self, obj):
        fresh = obj.profile.get("freshness") or {}
        if not fresh:
            return EMPTY
        waiting = "not applied" if fresh.get("applied_at") is None else "waiting for indexing"
        words = ("First event", "last event applied") if is_event_hour(obj) else ("Started", "applied")
        return format_html(
            "{} {}; {} {}; every row searchable {} ({} after the start).", words[0], fresh.get("started_at"),
            words[1], fresh.get("applied_at") or "—", fresh.get("indexed_at") or waiting,
            seconds_text(fresh.get("seconds")),
        )  # fmt: skip

    # Review --------------------------------------------------------------------------------------------------

    @admin.action(description="Apply the selected held runs", permissions=["review"])
    def apply_held(self, request, queryset):
        self._review(request, queryset, held_run_approve, "will be applied by a worker now")

    @admin.action(description="Discard the selected held runs", permissions=["review"])
    def discard_held(self, request, queryset):
        self._review(request, queryset, held_run_discard, "discarded: nothing of them was applied")

    def _review(self, request, queryset, service, outcome: str) -> None:
        """Run the service on each selected run; one that is not held is named, the others go on."""
        done = []
        for run in queryset.order_by("pk"):
            try:
                service(run_id=run.pk, user=request.user)
                done.append(str(run.pk))
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.WARNING)
        if done:
            self.message_user(request, f"Run {', '.join(done)} {outcome}.", messages.SUCCESS)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(
            can_review=obj is not None and obj.state == IngestionRun.State.HELD and self.has_review_permission(request),
            changelist_url=reverse("admin:knowledge_ingestionrun_changelist"),
            charts_url=reverse("admin:knowledge_ingestionrun_charts") + (f"?tenant={obj.tenant_id}" if obj else ""),
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Charts ----------------------------------------------------------------------------------------------------

    def get_urls(self):
        charts_view = self.admin_site.admin_view(self.charts_view)
        return [path("charts/", charts_view, name="knowledge_ingestionrun_charts"), *super().get_urls()]

    def charts_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        tenants = list(Tenant.objects.filter(ingestion_runs__isnull=False).distinct().order_by("name"))
        wanted = request.GET.get("tenant", "")
        selected = next((t for t in tenants if str(t.pk) == wanted), tenants[0] if tenants else None)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "tenants": tenants, "selected": selected,
            "title": f"Runs of {selected}: drift and freshness" if selected else "Runs: drift and freshness",
            "charts": _tenant_charts(selected) if selected else [],
        }  # fmt: skip
        return TemplateResponse(request, "admin/knowledge/ingestionrun/charts.html", context)


def _moved(move: dict) -> str:
    if "median" in move:
        before, after = move["median"]
        what = "median length" if move["kind"] == "length" else "median"
        return f"{what} {before:.4g} → {after:.4g}"
    change = move["top_change"]
    return f"“{Truncator(change['value']).chars(40)}” share {change['from']:.0%} → {change['to']:.0%}"


def _where(run: dict) -> str:
    if run["origin"] == IngestionRun.Origin.EVENTS:
        return f"run {run['pk']} (events, {run['source']})"  # the source and its hour
    return f"run {run['pk']} ({run['origin']}, {run['state']})"


def _tenant_charts(tenant: Tenant) -> list:
    """Drift, freshness and rejections of the tenant's newest profiled runs and event hours, oldest first.

    Rejections are charted for feed and bulk-API runs only: a refused event is answered with its error, not kept.
    """
    runs = list(
        IngestionRun.objects.filter(tenant=tenant)
        .exclude(profile={})
        .order_by("-created_at")
        .values("pk", "created_at", "origin", "state", "source", "profile__drift", "profile__freshness__seconds",
                "counts")[:CHART_RUNS]
    )  # fmt: skip
    drift, fresh, rejected = [], [], []
    for run in runs:
        where = _where(run)
        moved = run["profile__drift"] or {}
        if moved.get("previous_run"):
            drift.append(Point(run["created_at"], moved["max_psi"], f"{where}: largest PSI {moved['max_psi']}"))
        if run["profile__freshness__seconds"] is not None:
            seconds = run["profile__freshness__seconds"]
            fresh.append(Point(run["created_at"], seconds, f"{where}: searchable after {seconds_text(seconds)}"))
        totals = count_totals(run["counts"] or {})
        lines = sum(totals.values())
        if lines and run["origin"] != IngestionRun.Origin.EVENTS:
            share = totals["rejected"] / lines
            rejected.append(Point(run["created_at"], share, f"{where}: {share:.1%} of {lines:,} lines rejected"))
    return [
        time_chart(title="Largest field drift per run (PSI against the previous applied run)",
                          y_label="PSI", points=drift, guides=PSI_GUIDES),
        time_chart(title="Freshness: from the run's start to every row searchable", y_label="seconds",
                          points=fresh),
        time_chart(title="Share of lines rejected per feed or bulk-API run", y_label="share of lines",
                          points=rejected),
    ]  # fmt: skip


@admin.register(IngestionSettings)
class IngestionSettingsAdmin(admin.ModelAdmin):
    """A tenant's thresholds for holding runs; a tenant without settings has the defaults shown on "add"."""

    list_display = ("tenant", "max_reject_share", "max_missing_share", "hold_on_type_change")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "tenant__slug")
