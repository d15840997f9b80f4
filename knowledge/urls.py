from django.urls import path

from knowledge.api.content import (
    DocumentDetailApi,
    DocumentListApi,
    PolicyDetailApi,
    PolicyListApi,
    PolicyVersionDetailApi,
)
from knowledge.api.events import EventReceiveApi
from knowledge.api.search import SearchApi

urlpatterns = [
    path("policies/", PolicyListApi.as_view(), name="policy-list"),
    path("policies/<str:slug>/", PolicyDetailApi.as_view(), name="policy-detail"),
    path("policies/<str:slug>/versions/<int:number>/", PolicyVersionDetailApi.as_view(), name="policy-version"),
    path("documents/", DocumentListApi.as_view(), name="document-list"),
    path("documents/<str:slug>/", DocumentDetailApi.as_view(), name="document-detail"),
    path("search/", SearchApi.as_view(), name="search"),
    path("events/<str:source>/", EventReceiveApi.as_view(), name="event-receive"),
]
