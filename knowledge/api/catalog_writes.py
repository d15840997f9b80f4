"""Writes of catalog rows: products and SKUs (over the catalog's read views), prices and stock levels per SKU.

The product and SKU views extend `catalog.api`'s read views with write methods, so each path is one view.
"""

from drf_spectacular.utils import extend_schema_view
from rest_framework.views import APIView

from catalog.api import ProductDetailApi, ProductListApi, SkuDetailApi, SkuListApi
from knowledge.api.schema import create_schema, delete_schema, patch_schema, put_schema
from knowledge.api.writes import CreateMixin, EditMixin
from knowledge.ingestion.single import Mode

PRODUCT = {
    "type": "product", "handle": "aster-kettle", "category": "kitchen/kettles", "title": "Aster electric kettle 1.7 l",
    "brand": "Aster", "description": "A 2200 W stainless steel kettle.", "attributes": {"power_w": 2200},
}  # fmt: skip
SKU = {"type": "sku", "code": "ASTER-17-STEEL", "product": "aster-kettle", "attributes": {"colour": "steel"}}
PRICE = {"type": "price", "price_list": "retail-eur", "sku": "ASTER-17-STEEL", "amount": "49.90"}
STOCK = {"type": "stock", "warehouse": "ber", "sku": "ASTER-17-STEEL", "quantity": 24}


@extend_schema_view(post=create_schema("product", PRODUCT, tags=["products"]))
class ProductListCreateApi(CreateMixin, ProductListApi):
    """List the caller's products (GET, `catalog:read`), or create one from a product record (POST)."""

    record_type, permission_model = "product", "catalog.product"


@extend_schema_view(
    put=put_schema("product", PRODUCT, tags=["products"]),
    patch=patch_schema("product", {"title": "Aster kettle 1.7 l, steel"}, PRODUCT, tags=["products"]),
    delete=delete_schema("product", tags=["products"], note="Its SKUs, prices and stock levels go with it."),
)
class ProductDetailEditApi(EditMixin, ProductDetailApi):
    """Show a product (GET); replace (PUT), change (PATCH) or delete (DELETE) it by handle."""

    record_type, permission_model, url_keys = "product", "catalog.product", {"handle": "handle"}


@extend_schema_view(post=create_schema("sku", SKU, tags=["skus"]))
class SkuListCreateApi(CreateMixin, SkuListApi):
    """List the caller's SKUs (GET), or create one of a product (POST); a code is unique in the tenant."""

    record_type, permission_model = "sku", "catalog.sku"


@extend_schema_view(
    put=put_schema("sku", SKU, tags=["skus"]),
    patch=patch_schema("sku", {"is_active": False}, SKU, tags=["skus"]),
    delete=delete_schema("sku", tags=["skus"], note="Its prices and stock levels go with it."),
)
class SkuDetailEditApi(EditMixin, SkuDetailApi):
    """Show a SKU (GET); replace (PUT), change (PATCH) or delete (DELETE) it by code."""

    record_type, permission_model, url_keys = "sku", "catalog.sku", {"code": "code"}


@extend_schema_view(
    put=put_schema("price", PRICE, tags=["prices"], creates=True),
    patch=patch_schema("price", {"amount": "44.90"}, PRICE, tags=["prices"]),
    delete=delete_schema("price", tags=["prices"]),
)
class PriceEditApi(EditMixin, APIView):
    """Set (PUT, created when missing), change (PATCH) or delete (DELETE) a SKU's price on a price list."""

    record_type, permission_model = "price", "catalog.price"
    url_keys, put_mode = {"code": "sku", "price_list": "price_list"}, Mode.SET


@extend_schema_view(
    put=put_schema("stock", STOCK, tags=["stock"], creates=True),
    patch=patch_schema("stock", {"quantity": 20}, STOCK, tags=["stock"]),
    delete=delete_schema("stock", tags=["stock"]),
)
class StockEditApi(EditMixin, APIView):
    """Set (PUT, created when missing), change (PATCH) or delete (DELETE) a SKU's stock level in a warehouse."""

    record_type, permission_model = "stock", "catalog.stocklevel"
    url_keys, put_mode = {"code": "sku", "warehouse": "warehouse"}, Mode.SET
