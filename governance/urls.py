from django.urls import path

from governance.api import CitationDetailApi, RecordDetailApi, RecordExportApi, RecordListApi

urlpatterns = [
    # Citation IDs contain ":", "@", "#" (sent as %23) and, in SKU codes, "/": hence the path converter.
    path("citations/<path:citation_id>", CitationDetailApi.as_view(), name="citation-detail"),
    path("records/", RecordListApi.as_view(), name="record-list"),
    path("records/export/", RecordExportApi.as_view(), name="record-export"),
    path("records/<uuid:record_id>/", RecordDetailApi.as_view(), name="record-detail"),
]
