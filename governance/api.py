"""Governance API: citations resolve to the exact chunk version an answer cited; reviewers read and export records.

`GET /api/v1/citations/<citation_id>`: the exact chunk version an answer cited, even after edits and deletes.

`GET /api/v1/records/` and `/api/v1/records/<id>/`: signed-in reviewers (a session, with the tenant's
`catalog.review_records` object permission; superusers see every tenant) or API keys with the scope
`records:read` (their own tenant). `POST /api/v1/records/export/`: the same callers, with `records:export`
for keys. Records of a tenant the caller does not review are absent from lists and a 403 in detail and
export, whether they exist or not. Every read and export is written to the audit log.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Tenant
from core.api import StorefrontPagination, not_found
from core.scopes import Scope
from core.tenancy import Caller
from governance.authentication import KEYWORD
from governance.export import EXPORT_MAX, ExportTooLarge, answer_record_document, records_export
from governance.models import ApiKey, Risk, Verdict
from governance.review import (
    answer_record_get,
    answer_record_list,
    reviewer_for_api_key,
    reviewer_for_user,
)
from governance.reviewers import record_reads_audit
from governance.selectors import citation_resolve


class CitationDetailApi(APIView):
    """Resolve a citation ID (`kind:key@version#anchor`, URL-encoded: `#` is `%23`) to the passage it names."""

    class InputSerializer(serializers.Serializer):
        answer = serializers.UUIDField(
            required=False, help_text="The answer that cited it: resolves to exactly the chunk that answer saw."
        )

        class Meta:
            ref_name = "CitationInput"

    class OutputSerializer(serializers.Serializer):
        citation_id = serializers.CharField(source="chunk.citation_id")
        kind = serializers.CharField(source="chunk.source_kind")
        key = serializers.CharField(source="chunk.source_key")
        version = serializers.IntegerField(source="chunk.source_version")
        anchor = serializers.CharField(source="chunk.anchor")
        locale = serializers.CharField(source="chunk.locale")
        title = serializers.CharField(source="chunk.title")
        text = serializers.CharField(source="chunk.text")
        context = serializers.CharField(
            source="chunk.parent.text", default=None, allow_null=True, help_text="The parent section, if any."
        )
        created_at = serializers.DateTimeField(source="chunk.created_at")
        retired_at = serializers.DateTimeField(
            source="chunk.retired_at", allow_null=True, help_text="Set once an edit or delete replaced this version."
        )
        is_current = serializers.BooleanField(help_text="Still the live version of its source.")
        source_exists = serializers.BooleanField(help_text="False once the source itself was deleted.")
        answer_id = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "CitationDetail"

    @extend_schema(
        tags=["citations"],
        parameters=[InputSerializer, OpenApiParameter("citation_id", str, OpenApiParameter.PATH)],
        responses=OutputSerializer,
    )
    def get(self, request, citation_id: str):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        citation_id = citation_id.rstrip("/")
        resolved = citation_resolve(
            caller=request.caller, citation_id=citation_id, answer_id=params.validated_data.get("answer")
        )
        if resolved is None:
            raise not_found("citation", citation_id)
        return Response(self.OutputSerializer(resolved).data)


# Records for compliance review --------------------------------------------------------------------------------

NOT_REVIEWABLE = "You do not review the records of this tenant (or there is no such record)."


class ReviewsRecords(permissions.BasePermission):
    """A reviewer's session, or an API key carrying the view's `required_scope`; sets `request.reviewer`."""

    message = "You review no tenant's records: ask for a reviewer grant, or use a key with the records scope."

    def has_permission(self, request, view):
        if isinstance(request.auth, Caller):
            api_key = ApiKey.objects.select_related("tenant").filter(pk=request.auth.api_key_id).first()
            reviewer = reviewer_for_api_key(api_key, scope=view.required_scope)
            if not reviewer.reviews_anything:
                self.message = f"This API key lacks the scope {view.required_scope!r}."
            request.caller = request.auth  # the tenant's rate plan applies to its keys
        elif request.user and request.user.is_authenticated:
            reviewer = reviewer_for_user(request.user)
        else:
            raise exceptions.NotAuthenticated(f"Sign in as a reviewer, or send 'Authorization: {KEYWORD} <key>'.")
        request.reviewer = reviewer
        return reviewer.reviews_anything


class RecordListApi(APIView):
    """Answer records of the tenants the caller reviews, newest first."""

    required_scope = Scope.RECORDS_READ
    permission_classes = [ReviewsRecords]
    pagination_class = StorefrontPagination

    class InputSerializer(serializers.Serializer):
        tenant = serializers.SlugField(required=False, help_text="Only this tenant (one you review).")
        q = serializers.CharField(required=False, max_length=200, help_text="Question or answer contains.")
        verdict = serializers.ChoiceField(choices=Verdict.choices, required=False)
        risk = serializers.ChoiceField(choices=Risk.values, required=False)
        capability = serializers.CharField(required=False, max_length=20)
        created_from = serializers.DateTimeField(required=False)
        created_to = serializers.DateTimeField(required=False, help_text="Exclusive.")

        class Meta:
            ref_name = "RecordListInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        tenant = serializers.CharField(source="tenant.slug")
        created_at = serializers.DateTimeField()
        capability = serializers.CharField()
        locale = serializers.CharField()
        question = serializers.CharField()
        answer = serializers.CharField()
        verdict = serializers.CharField()
        risk = serializers.CharField()
        provider = serializers.CharField()
        model = serializers.CharField()
        cache_hit = serializers.BooleanField()
        content_hash = serializers.CharField()
        chain_seq = serializers.IntegerField(allow_null=True)
        record_hash = serializers.CharField()

        class Meta:
            ref_name = "RecordListItem"

    @extend_schema(tags=["records"], parameters=[InputSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        filters["tenant"] = _reviewed_tenant(request.reviewer, filters.get("tenant"))
        records = answer_record_list(reviewer=request.reviewer, **filters).order_by("-created_at", "pk")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(records, request, view=self)
        record_reads_audit(reviewer=request.reviewer, records=page, action="records.list")
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class RecordDetailApi(APIView):
    """One record as a reviewer sees it: claims, citations resolved to the exact chunk versions, versions, costs."""

    required_scope = Scope.RECORDS_READ
    permission_classes = [ReviewsRecords]

    @extend_schema(
        tags=["records"], parameters=[OpenApiParameter("record_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request, record_id):
        record = answer_record_get(reviewer=request.reviewer, record_id=record_id)
        if record is None:
            raise exceptions.PermissionDenied(NOT_REVIEWABLE)
        record_reads_audit(reviewer=request.reviewer, records=[record], action="record.view")
        return Response(answer_record_document(record))


class RecordExportApi(APIView):
    """A zip of `records.jsonl` and `manifest.json` (ids, chain positions, hashes, the JSONL's sha256)."""

    required_scope = Scope.RECORDS_EXPORT
    permission_classes = [ReviewsRecords]

    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=EXPORT_MAX)
        tenant = serializers.SlugField(required=False)
        verdict = serializers.ChoiceField(choices=Verdict.choices, required=False)
        risk = serializers.ChoiceField(choices=Risk.values, required=False)
        created_from = serializers.DateTimeField(required=False)
        created_to = serializers.DateTimeField(required=False)

        class Meta:
            ref_name = "RecordExportInput"

    @extend_schema(tags=["records"], request=InputSerializer, responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        reviewer = request.reviewer
        filters["tenant"] = _reviewed_tenant(reviewer, filters.get("tenant"))
        ids = filters.pop("ids", None)
        records = answer_record_list(reviewer=reviewer, ids=ids, **filters)
        if ids is not None and records.count() != len(set(ids)):
            raise exceptions.PermissionDenied(NOT_REVIEWABLE)
        try:
            export = records_export(reviewer=reviewer, records=records, actor=request.user, via="api")
        except ExportTooLarge as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return _zip_response(export)


def _reviewed_tenant(reviewer, slug: str | None) -> Tenant | None:
    if not slug:
        return None
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None or not reviewer.reviews(tenant.pk):
        raise exceptions.PermissionDenied(NOT_REVIEWABLE)
    return tenant


def _zip_response(export) -> HttpResponse:
    response = HttpResponse(export.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
