"""GET /api/v1/citations/<citation_id>: the exact chunk version an answer cited, even after edits and deletes."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api import not_found
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
