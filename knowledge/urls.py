"""/api/v1 routes of the catalog and its content: reads and writes of each path are one view.

The product and SKU paths are declared here, not in catalog: their views extend catalog's read views with
the write methods (catalog cannot import knowledge, where the write path lives).
"""

from django.urls import path

from knowledge.api.catalog_writes import (
    PriceEditApi,
    ProductDetailEditApi,
    ProductListCreateApi,
    SkuDetailEditApi,
    SkuListCreateApi,
    StockEditApi,
)
from knowledge.api.content import PolicyVersionDetailApi
from knowledge.api.content_writes import (
    DocumentDetailEditApi,
    DocumentListCreateApi,
    PolicyDetailEditApi,
    PolicyListCreateApi,
    QaCreateApi,
    QaEditApi,
    ReviewCreateApi,
    ReviewEditApi,
)
from knowledge.api.events import EventReceiveApi
from knowledge.api.feeds import FeedRunCreateApi, FeedRunDetailApi
from knowledge.api.search import SearchApi

urlpatterns = [
    path("products/", ProductListCreateApi.as_view(), name="product-list"),
    path("products/<str:handle>/", ProductDetailEditApi.as_view(), name="product-detail"),
    path("skus/", SkuListCreateApi.as_view(), name="sku-list"),
    # SKU codes may contain "/" (catalog.models.sku_code_validator), hence the path converter; the price and
    # stock paths come first so that their suffix is not read as part of a code.
    path("skus/<path:code>/prices/<slug:price_list>/", PriceEditApi.as_view(), name="sku-price"),
    path("skus/<path:code>/stock/<slug:warehouse>/", StockEditApi.as_view(), name="sku-stock"),
    path("skus/<path:code>/", SkuDetailEditApi.as_view(), name="sku-detail"),
    path("policies/", PolicyListCreateApi.as_view(), name="policy-list"),
    path("policies/<str:slug>/", PolicyDetailEditApi.as_view(), name="policy-detail"),
    path("policies/<str:slug>/versions/<int:number>/", PolicyVersionDetailApi.as_view(), name="policy-version"),
    path("documents/", DocumentListCreateApi.as_view(), name="document-list"),
    path("documents/<str:slug>/", DocumentDetailEditApi.as_view(), name="document-detail"),
    path("reviews/", ReviewCreateApi.as_view(), name="review-list"),
    path("reviews/<str:slug>/", ReviewEditApi.as_view(), name="review-detail"),
    path("qa/", QaCreateApi.as_view(), name="qa-list"),
    path("qa/<str:slug>/", QaEditApi.as_view(), name="qa-detail"),
    path("feeds/", FeedRunCreateApi.as_view(), name="feed-list"),
    path("feeds/<int:run_id>/", FeedRunDetailApi.as_view(), name="feed-detail"),
    path("search/", SearchApi.as_view(), name="search"),
    path("events/<str:source>/", EventReceiveApi.as_view(), name="event-receive"),
]
