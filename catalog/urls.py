from django.urls import path

from catalog.api import ProductDetailApi, ProductListApi, SkuDetailApi, SkuListApi

urlpatterns = [
    path("products/", ProductListApi.as_view(), name="product-list"),
    path("products/<str:handle>/", ProductDetailApi.as_view(), name="product-detail"),
    path("skus/", SkuListApi.as_view(), name="sku-list"),
    # SKU codes may contain "/" (catalog.models.sku_code_validator), hence the path converter.
    path("skus/<path:code>/", SkuDetailApi.as_view(), name="sku-detail"),
]
