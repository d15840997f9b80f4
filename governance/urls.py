from django.urls import path

from governance.api import CitationDetailApi

urlpatterns = [
    # Citation IDs contain ":", "@", "#" (sent as %23) and, in SKU codes, "/": hence the path converter.
    path("citations/<path:citation_id>", CitationDetailApi.as_view(), name="citation-detail"),
]
