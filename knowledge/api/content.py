"""Storefront read API for policies and documents: thin views over `knowledge.selectors` (writes extend them)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StorefrontPagination, not_found, paginated_response, sees_inactive
from knowledge.models import Document, Policy
from knowledge.selectors import (
    DocumentFilter,
    PolicyFilter,
    document_get,
    document_list,
    policy_get,
    policy_list,
    policy_version_get,
)


class PolicyVersionRefSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    published_at = serializers.DateTimeField()


class PolicyListItemSerializer(serializers.Serializer):
    """A policy as published: its current version's title and number, never the unpublished working copy."""

    slug = serializers.CharField()
    kind = serializers.CharField()
    region = serializers.CharField()
    locale = serializers.CharField()
    title = serializers.CharField(source="current_version.title")
    version = serializers.IntegerField(source="current_version.number")
    published_at = serializers.DateTimeField(source="current_version.published_at")


class PolicyListApi(APIView):
    """List the caller's published policies."""

    queryset = Policy.objects.none()  # the schema reads the filters' model from it; never evaluated
    filter_backends = [DjangoFilterBackend]
    filterset_class = PolicyFilter
    pagination_class = StorefrontPagination

    class OutputSerializer(PolicyListItemSerializer):
        class Meta:
            ref_name = "PolicyListItem"

    @extend_schema(tags=["policies"], responses=OutputSerializer(many=True))
    def get(self, request):
        return paginated_response(
            self, policy_list(caller=request.caller, filters=request.query_params), self.OutputSerializer
        )


class PolicyDetailApi(APIView):
    """Show a policy's current published version and list every version it has had."""

    class OutputSerializer(PolicyListItemSerializer):
        body = serializers.CharField(source="current_version.body")
        versions = PolicyVersionRefSerializer(many=True, source="version_list")

        class Meta:
            ref_name = "PolicyDetail"

    @extend_schema(tags=["policies"], responses=OutputSerializer)
    def get(self, request, slug: str):
        policy = policy_get(caller=request.caller, slug=slug)
        if policy is None:
            raise not_found("policy", slug)
        return Response(self.OutputSerializer(policy).data)


class PolicyVersionDetailApi(APIView):
    """Show one published version of a policy, current or superseded (what a citation `policy:slug@n` names)."""

    class OutputSerializer(serializers.Serializer):
        policy = serializers.CharField(source="policy.slug")
        number = serializers.IntegerField()
        title = serializers.CharField()
        body = serializers.CharField()
        published_at = serializers.DateTimeField()
        is_current = serializers.SerializerMethodField()

        class Meta:
            ref_name = "PolicyVersionDetail"

        def get_is_current(self, version) -> bool:
            return version.policy.current_version_id == version.pk

    @extend_schema(tags=["policies"], responses=OutputSerializer)
    def get(self, request, slug: str, number: int):
        version = policy_version_get(caller=request.caller, slug=slug, number=number)
        if version is None:
            raise not_found("policy version", f"{slug}@{number}")
        return Response(self.OutputSerializer(version).data)


class ProductHandleSerializer(serializers.Serializer):
    handle = serializers.CharField()
    title = serializers.CharField()


class DocumentListItemSerializer(serializers.Serializer):
    slug = serializers.CharField()
    kind = serializers.CharField()
    format = serializers.CharField()
    locale = serializers.CharField()
    title = serializers.CharField()
    product = ProductHandleSerializer(allow_null=True)
    rating = serializers.IntegerField(allow_null=True)
    author = serializers.CharField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class DocumentListApi(APIView):
    """List the caller's documents (without bodies): those tied to no product or to a product it sees."""

    queryset = Document.objects.none()  # the schema reads the filters' model from it; never evaluated
    filter_backends = [DjangoFilterBackend]
    filterset_class = DocumentFilter
    pagination_class = StorefrontPagination

    class OutputSerializer(DocumentListItemSerializer):
        class Meta:
            ref_name = "DocumentListItem"

    @extend_schema(tags=["documents"], responses=OutputSerializer(many=True))
    def get(self, request):
        documents = document_list(
            caller=request.caller, filters=request.query_params, include_inactive=sees_inactive(request)
        )
        return paginated_response(self, documents, self.OutputSerializer)


class DocumentDetailApi(APIView):
    """Show one document by slug, with its body."""

    class OutputSerializer(DocumentListItemSerializer):
        question = serializers.CharField(help_text="Q&A only: the customer's question (the body is the answer).")
        body = serializers.CharField()

        class Meta:
            ref_name = "DocumentDetail"

    @extend_schema(tags=["documents"], responses=OutputSerializer)
    def get(self, request, slug: str):
        document = document_get(caller=request.caller, slug=slug, include_inactive=sees_inactive(request))
        if document is None:
            raise not_found("document", slug)
        return Response(self.OutputSerializer(document).data)
