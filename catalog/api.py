"""Storefront read API for the catalog: thin views over `catalog.selectors`."""

from collections import defaultdict

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.filters import ProductFilter, SkuFilter
from catalog.models import SKU, Product
from catalog.selectors import product_get, product_list, sku_get, sku_list
from core.api import StorefrontPagination, not_found, paginated_response, sees_inactive


class PriceSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="price_list.currency")
    price_list = serializers.CharField(source="price_list.code")


class PriceRangeSerializer(serializers.Serializer):
    currency = serializers.CharField()
    min = serializers.DecimalField(max_digits=12, decimal_places=2)
    max = serializers.DecimalField(max_digits=12, decimal_places=2)


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


def price_ranges(skus) -> list[dict]:
    """Return the lowest and highest resolved price per currency over these (prefetched) SKUs."""
    amounts = defaultdict(list)
    for sku in skus:
        for price in sku.resolved_prices:
            amounts[price.price_list.currency].append(price.amount)
    return [{"currency": c, "min": min(a), "max": max(a)} for c, a in sorted(amounts.items())]


class ProductListItemSerializer(serializers.Serializer):
    handle = serializers.CharField()
    title = serializers.CharField()
    brand = serializers.CharField()
    category = CategoryRefSerializer()
    compliance_category = serializers.CharField()
    is_active = serializers.BooleanField()
    in_stock = serializers.BooleanField(help_text="Some active SKU has stock in a warehouse.")
    prices = serializers.SerializerMethodField(help_text="Price range per currency over the active SKUs.")

    @extend_schema_field(PriceRangeSerializer(many=True))
    def get_prices(self, product) -> list[dict]:
        return PriceRangeSerializer(price_ranges(product.visible_skus), many=True).data


class ProductListApi(APIView):
    """List the products the caller may see, with price ranges from its price list."""

    queryset = Product.objects.none()  # the schema reads the filters' model from it; never evaluated
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    pagination_class = StorefrontPagination

    class OutputSerializer(ProductListItemSerializer):
        class Meta:
            ref_name = "ProductListItem"

    @extend_schema(tags=["products"], responses=OutputSerializer(many=True))
    def get(self, request):
        products = product_list(
            caller=request.caller, filters=request.query_params, include_inactive=sees_inactive(request)
        )
        return paginated_response(self, products, self.OutputSerializer)


class ProductDetailApi(APIView):
    """Show one product by handle, with its SKUs, their prices and whether each is in stock."""

    class OutputSerializer(ProductListItemSerializer):
        class SkuSerializer(serializers.Serializer):
            code = serializers.CharField()
            attributes = serializers.JSONField()
            is_active = serializers.BooleanField()
            in_stock = serializers.BooleanField()
            prices = PriceSerializer(many=True, source="resolved_prices")

            class Meta:
                ref_name = "ProductSku"

        description = serializers.CharField()
        attributes = serializers.JSONField()
        version = serializers.IntegerField()
        updated_at = serializers.DateTimeField()
        skus = SkuSerializer(many=True, source="visible_skus")

        class Meta:
            ref_name = "ProductDetail"

    @extend_schema(tags=["products"], responses=OutputSerializer)
    def get(self, request, handle: str):
        product = product_get(caller=request.caller, handle=handle, include_inactive=sees_inactive(request))
        if product is None:
            raise not_found("product", handle)
        return Response(self.OutputSerializer(product).data)


class ProductRefSerializer(serializers.Serializer):
    handle = serializers.CharField()
    title = serializers.CharField()


class SkuListItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    product = ProductRefSerializer()
    attributes = serializers.JSONField()
    is_active = serializers.BooleanField()
    in_stock = serializers.BooleanField()
    prices = PriceSerializer(many=True, source="resolved_prices")


class SkuListApi(APIView):
    """List the SKUs the caller may see, with their prices and whether each is in stock."""

    queryset = SKU.objects.none()  # the schema reads the filters' model from it; never evaluated
    filter_backends = [DjangoFilterBackend]
    filterset_class = SkuFilter
    pagination_class = StorefrontPagination

    class OutputSerializer(SkuListItemSerializer):
        class Meta:
            ref_name = "SkuListItem"

    @extend_schema(tags=["skus"], responses=OutputSerializer(many=True))
    def get(self, request):
        skus = sku_list(caller=request.caller, filters=request.query_params, include_inactive=sees_inactive(request))
        return paginated_response(self, skus, self.OutputSerializer)


class SkuDetailApi(APIView):
    """Show one SKU by code, with its prices and its stock: the total and per warehouse."""

    class OutputSerializer(SkuListItemSerializer):
        class StockSerializer(serializers.Serializer):
            warehouse = serializers.CharField(source="warehouse.code")
            name = serializers.CharField(source="warehouse.name")
            country = serializers.CharField(source="warehouse.country")
            quantity = serializers.IntegerField()

            class Meta:
                ref_name = "WarehouseStock"

        version = serializers.IntegerField()
        updated_at = serializers.DateTimeField()
        stock_total = serializers.IntegerField()
        stock = StockSerializer(many=True, source="tenant_stock_levels")

        class Meta:
            ref_name = "SkuDetail"

    @extend_schema(tags=["skus"], responses=OutputSerializer)
    def get(self, request, code: str):
        sku = sku_get(caller=request.caller, code=code, include_inactive=sees_inactive(request))
        if sku is None:
            raise not_found("SKU", code)
        return Response(self.OutputSerializer(sku).data)
