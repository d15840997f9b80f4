"""GET /api/v1/search/: hybrid search over what the caller may see; a thin view over `search`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import ComplianceCategory
from core.tenancy import LOCALE_CHOICES, Caller
from knowledge.retrieval.request import MAX_PAGE_SIZE, PAGE_SIZE, QUERY_MAX, SearchFilters, SearchRequest
from knowledge.retrieval.search import PRICE_BANDS, search

MAX_PAGE = 1_000  # far beyond the pool; bounds the integer a client can send


class SearchFiltersSerializer(serializers.Serializer):
    """The query and the product filters shared by the search API and the assistant's search."""

    q = serializers.CharField(max_length=QUERY_MAX, help_text=f"The query: 1 to {QUERY_MAX} characters.")
    locale = serializers.ChoiceField(choices=LOCALE_CHOICES, required=False)
    category = serializers.SlugField(
        max_length=100, required=False, help_text="Category slug; its subcategories are included."
    )
    price_min = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    compliance_category = serializers.ChoiceField(choices=ComplianceCategory.choices, required=False)

    def validate(self, attrs):
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_max": "Must be at least price_min."})
        return attrs


def search_filters(data: dict) -> SearchFilters:
    """Return the product filters of validated input (the search API's, or the assistant's search)."""
    return SearchFilters(**{name: data[name] for name in SearchFilters.names() if data.get(name) is not None})


def search_request(caller: Caller, data: dict) -> SearchRequest:
    """Build the typed request from the search API's validated input."""
    return SearchRequest(
        caller=caller,
        query=data["q"],
        filters=search_filters(data),
        locale=data.get("locale"),
        page=data.get("page") or 1,
        size=data["page_size"],
    )


class SearchApi(APIView):
    """Search products, policies and documents: vector, keyword and fuzzy legs fused by reciprocal rank."""

    class InputSerializer(SearchFiltersSerializer):
        in_stock = serializers.ChoiceField(
            choices=["true", "false"], required=False, help_text="Some active SKU has stock (true) or none has."
        )
        page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, required=False, default=1)
        page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=PAGE_SIZE)

        class Meta:
            ref_name = "SearchInput"

        def validate(self, attrs):
            attrs = super().validate(attrs)
            if "in_stock" in attrs:
                attrs["in_stock"] = attrs["in_stock"] == "true"
            return attrs

    class OutputSerializer(serializers.Serializer):
        class HitSerializer(serializers.Serializer):
            class LegsSerializer(serializers.Serializer):
                vector = serializers.FloatField(allow_null=True, help_text="Cosine similarity; null if not found.")
                keyword = serializers.FloatField(allow_null=True, help_text="BM25 score; null if not found.")
                fuzzy = serializers.FloatField(allow_null=True, help_text="Trigram similarity; null if not found.")
                fused = serializers.FloatField(help_text="Weighted reciprocal-rank fusion of the three legs.")

                class Meta:
                    ref_name = "SearchLegs"

            citation_id = serializers.CharField(source="chunk.citation_id")
            kind = serializers.CharField(source="chunk.source_kind")
            title = serializers.CharField(source="chunk.title")
            snippet = serializers.CharField(
                help_text="The first sentences holding a query word, HTML-escaped, the words in <mark>."
            )
            product = serializers.CharField(source="product_handle", allow_null=True, help_text="Product handle.")
            score = serializers.FloatField(help_text="Final score after the re-rankers (see `versions.reranker`).")
            legs = LegsSerializer()

            class Meta:
                ref_name = "SearchHit"

        class FacetsSerializer(serializers.Serializer):
            category = serializers.DictField(
                child=serializers.IntegerField(), help_text="Category slug to its number of matching products."
            )
            brand = serializers.DictField(child=serializers.IntegerField(), help_text="Brand to products.")
            in_stock = serializers.DictField(child=serializers.IntegerField(), help_text='Keys "true" and "false".')
            price = serializers.DictField(
                child=serializers.IntegerField(),
                help_text="Lowest resolved price band: " + ", ".join(label for label, _, _ in PRICE_BANDS) + ".",
            )

            class Meta:
                ref_name = "SearchFacets"

        count = serializers.IntegerField(help_text="Visible results over all pages.")
        page = serializers.IntegerField()
        results = HitSerializer(many=True, source="hits")
        facets = FacetsSerializer()
        versions = serializers.DictField(
            child=serializers.CharField(allow_blank=True),
            help_text="What ranked these results: embedding `space`, `ranking` profile version, `reranker` steps.",
        )

        class Meta:
            ref_name = "SearchResult"

    @extend_schema(tags=["search"], parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(self.OutputSerializer(search(search_request(request.caller, params.validated_data))).data)
