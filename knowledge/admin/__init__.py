"""The knowledge admin: policies and documents (edited through services, versions read-only), spaces, chunks."""

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import Truncator

from core.admin import (
    IndexedAdminMixin,
    IndexStatusFilter,
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    TenantLockedMixin,
    form_values,
)
from knowledge.admin import events  # noqa: F401 - registers the change-event sources and received events
from knowledge.admin.forms import DocumentForm, EmbeddingSpaceForm, PolicyForm
from knowledge.admin.ingestion import IngestionRunAdmin, IngestionSettingsAdmin  # noqa: F401 - registers them
from knowledge.admin.relevance import RelevanceModelAdmin  # noqa: F401 - registers it
from knowledge.models import (
    Chunk,
    ChunkEmbedding,
    Document,
    DocumentVersion,
    EmbeddingSpace,
    KeywordPack,
    KeywordStats,
    Policy,
    PolicyVersion,
    RankingProfile,
    SourceKind,
)
from knowledge.selectors import ranking_for
from knowledge.services import documents, policies, spaces
from knowledge.services.keyword_packs import pack_status
from knowledge.services.ranking import WEIGHT_FIELDS, ranking_profile_publish
from knowledge.tasks import keyword_pack_build_task

PREVIEW = 140  # characters of a version's body shown in the history table


class HistoryOwnerMixin:
    """A source whose version history is deleted with it, by its service, never on its own."""

    history_model = None

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(self.history_model._meta.verbose_name)  # the history admin refuses deletes by design
        return deleted, counts, perms_needed, protected


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A source's version history: read-only rows, each linking to its own page with the full text."""

    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="text")
    def preview(self, obj):
        return Truncator(obj.body).chars(PREVIEW)


class PolicyVersionInline(VersionInline):
    model = PolicyVersion
    fields = ("number", "title", "published_at", "published_by", "preview")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("published_by", "policy")


@admin.register(Policy)
class PolicyAdmin(HistoryOwnerMixin, TenantLockedMixin, IndexedAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    history_model = PolicyVersion
    index_kind = SourceKind.POLICY
    form = PolicyForm
    list_display = (
        "title", "slug", "kind", "region", "locale", "tenant", "published_version", "updated_at", "index_status_badge",
    )  # fmt: skip
    list_filter = ("tenant", "kind", "region", "locale", IndexStatusFilter)
    list_select_related = ("tenant", "current_version")
    search_fields = ("title", "slug", "region")
    readonly_fields = ("published_version", "updated_at", "index_status_badge")
    inlines = (PolicyVersionInline,)
    actions = ("reindex_selected",)

    @admin.display(description="version", ordering="current_version__number")
    def published_version(self, obj):
        return obj.current_version.number if obj.current_version_id else "—"

    def service_create(self, request, form):
        values = form_values(form, policies.POLICY_FIELDS)
        return policies.policy_create(tenant=form.cleaned_data["tenant"], published_by=request.user, **values)

    def service_update(self, request, obj, form):
        before = obj.current_version_id
        policy = policies.policy_update(obj, published_by=request.user, **form_values(form, policies.POLICY_FIELDS))
        if policy.current_version_id != before:
            self.message_user(request, f"Published version {policy.current_version.number} of “{policy.slug}”.")
        return policy

    def service_delete(self, request, obj):
        policies.policy_delete(obj)
        return True

    def get_deleted_objects(self, objs, request):
        """Show what policy_delete removes: it clears the pointer to the current version first."""
        with transaction.atomic():  # ask Django's collector about that state, then undo it
            Policy.objects.filter(pk__in=[obj.pk for obj in objs]).update(current_version=None)
            result = super().get_deleted_objects(objs, request)
            transaction.set_rollback(True)
        return result


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("policy", "number", "title", "published_at", "published_by")
    list_select_related = ("policy", "published_by")
    search_fields = ("policy__slug", "title")
    fields = ("policy", "number", "title", "body", "published_at", "published_by")


class DocumentVersionInline(VersionInline):
    model = DocumentVersion
    fields = ("number", "title", "created_at", "created_by", "preview")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "document")


@admin.register(Document)
class DocumentAdmin(HistoryOwnerMixin, TenantLockedMixin, IndexedAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    history_model = DocumentVersion
    index_kind = SourceKind.DOCUMENT
    form = DocumentForm
    list_display = (
        "title", "slug", "kind", "format", "locale", "product", "rating", "version", "updated_at", "index_status_badge",
    )  # fmt: skip
    list_filter = ("tenant", "kind", "format", "locale", IndexStatusFilter)
    list_select_related = ("tenant", "product")
    search_fields = ("title", "slug", "author", "question", "product__title")
    autocomplete_fields = ("product",)
    readonly_fields = ("version", "updated_at", "index_status_badge")
    fieldsets = (
        (None, {"fields": ("tenant", "slug", "kind", "format", "locale", "title", "product")}),
        (
            "Text",
            {
                "fields": (("question", "body"), "source_file"),
                "description": "A Q&A's question sits beside its answer (the body, which search indexes); "
                "other kinds leave the question empty.",
            },
        ),
        ("Reviews and Q&A", {"fields": ("author", "rating")}),
        ("Index", {"fields": ("version", "updated_at", "index_status_badge")}),
    )
    inlines = (DocumentVersionInline,)
    actions = ("reindex_selected",)

    def service_create(self, request, form):
        return documents.document_create(
            tenant=form.cleaned_data["tenant"], created_by=request.user, **self._values(form)
        )

    def service_update(self, request, obj, form):
        return documents.document_update(obj, created_by=request.user, **self._values(form))

    def service_delete(self, request, obj):
        documents.document_delete(obj)
        return True

    @staticmethod
    def _values(form) -> dict:
        """The service's fields, plus the uploaded file's bytes the form already read and checked."""
        return dict(form_values(form, documents.DOCUMENT_FIELDS), upload=form.upload, filename=form.upload_name)


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("document", "number", "title", "created_at", "created_by")
    list_select_related = ("document", "created_by")
    search_fields = ("document__slug", "title")
    fields = ("document", "number", "title", "body", "created_at", "created_by")


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Adding a space is switching models: it fills in the background and is promoted when complete."""

    form = EmbeddingSpaceForm
    list_display = ("name", "version", "state", "dimensions", "vector_count", "activated_at", "created_at")
    list_filter = ("state",)
    readonly_fields = ("name", "model_path", "version", "dimensions", "state", "vector_count", "activated_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else EmbeddingSpaceForm.Meta.fields

    def get_queryset(self, request):
        counts = ChunkEmbedding.objects.filter(space=OuterRef("pk")).order_by().values("space")
        vectors = Subquery(counts.annotate(n=Count("pk")).values("n"))
        return super().get_queryset(request).annotate(vector_count=Coalesce(vectors, 0))

    @admin.display(description="vectors", ordering="vector_count")
    def vector_count(self, obj):
        return obj.vector_count

    def has_change_permission(self, request, obj=None):
        return False  # a space's model and dimensions are fixed; its state moves only through the services

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and obj is not None and obj.state == EmbeddingSpace.State.RETIRED

    def service_create(self, request, form):
        values = form_values(form, ("name", "model_path", "version", "dimensions"))
        space = spaces.embedding_space_create(**values)
        if space.state == EmbeddingSpace.State.BUILDING:
            self.message_user(
                request, f"{space.name} v{space.version} fills in the background and serves once complete."
            )
        return space

    def service_delete(self, request, obj):
        spaces.embedding_space_purge(obj.pk)  # drops its vectors in batches and its HNSW index
        obj.delete()
        return True


class RetiredFilter(admin.SimpleListFilter):
    title = "retired"
    parameter_name = "retired"

    def lookups(self, request, model_admin):
        return [("no", "live"), ("yes", "retired")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(retired_at__isnull=self.value() == "no")
        return queryset


@admin.register(Chunk)
class ChunkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Chunks are derived from the sources: look, never touch (edit the source instead)."""

    list_display = ("citation_id", "title", "source_kind", "locale", "is_leaf", "token_count", "tenant", "retired_at")
    list_filter = ("source_kind", "locale", RetiredFilter, "is_leaf")
    list_select_related = ("tenant",)
    search_fields = ("source_key", "text")
    show_full_result_count = False  # counting millions of chunks on every search is not worth it
    readonly_fields = ("citation_id",)

    @admin.display(description="citation")
    def citation_id(self, obj):
        return obj.citation_id


@admin.register(RankingProfile)
class RankingProfileAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Each save publishes the tenant's next version; published versions are history and stay as they were."""

    list_display = (
        "tenant", "version", "rrf_k", "keyword_weight", "vector_weight", "fuzzy_weight",
        "relevance_weight", "margin_weight", "stock_weight", "conversion_weight", "freshness_weight",
        "note", "created_by", "created_at",
    )  # fmt: skip
    list_filter = ("tenant",)
    list_select_related = ("tenant", "created_by")
    fieldsets = (
        (None, {"fields": ("tenant", "note")}),
        (
            "Fusion (reciprocal rank: weight / (k + rank) per leg)",
            {"fields": ("rrf_k", "keyword_weight", "vector_weight", "fuzzy_weight")},
        ),
        (
            "Feature re-ranker (relevance and each feature in 0..1, times its weight)",
            {"fields": ("relevance_weight", "margin_weight", "stock_weight", "conversion_weight", "freshness_weight")},
        ),
    )

    def get_changeform_initial_data(self, request):
        """Start from the weights in force: the settings' defaults, or the tenant's newest version."""
        initial = super().get_changeform_initial_data(request)
        tenant_id = initial.get("tenant")
        current = ranking_for(tenant_id=int(tenant_id)) if str(tenant_id or "").isdigit() else None
        defaults = {f: getattr(current, f) for f in WEIGHT_FIELDS} if current else settings.SEARCH_RANKING
        return {**defaults, **initial}

    def has_change_permission(self, request, obj=None):
        return False  # a published version is what past answers name: publish a new one instead

    def service_create(self, request, form):
        profile = ranking_profile_publish(
            tenant=form.cleaned_data["tenant"],
            values=form.cleaned_data,
            user=request.user,
            note=form.cleaned_data.get("note", ""),
        )
        self.message_user(request, f"Version {profile.version} is now in force for {profile.tenant}.")
        return profile


@admin.register(KeywordPack)
class KeywordPackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The keyword leg's packed postings per tenant and locale: rebuilt by the beat task once enough has
    changed (settings.KEYWORD_PACK_*), or on request here; searches stay exact in between."""

    list_display = (
        "tenant", "locale", "generation", "chunks", "changed_since", "postings", "terms", "size_mb", "built_at",
        "delta_from", "build_seconds",
    )  # fmt: skip
    list_filter = ("locale",)
    list_select_related = ("tenant",)
    actions = ("rebuild_selected",)

    def get_queryset(self, request):
        stats = KeywordStats.objects.filter(tenant=OuterRef("tenant"), locale=OuterRef("locale")).values("chunks")
        return super().get_queryset(request).annotate(live_chunks=Coalesce(Subquery(stats), 0))

    @admin.display(description="changed since the build")
    def changed_since(self, obj):
        return pack_status(obj.tenant_id, obj.locale, obj.live_chunks, obj).changed

    @admin.display(description="MB", ordering="size_bytes")
    def size_mb(self, obj):
        return round(obj.size_bytes / 2**20, 1)

    @admin.action(description="Rebuild selected packs")
    def rebuild_selected(self, request, queryset):
        packs = list(queryset.values_list("tenant_id", "locale"))
        for tenant_id, locale in packs:
            transaction.on_commit(lambda t=tenant_id, loc=locale: keyword_pack_build_task.delay(t, loc))
        message = f"Queued {len(packs)} pack(s) for a rebuild; the generation goes up when each is done."
        self.message_user(request, message, messages.INFO)
