"""Writes of content: policies (each new text publishes a version), documents (JSON or a file), reviews and Q&A."""

import copy

from drf_spectacular.utils import OpenApiExample, OpenApiRequest, extend_schema_view
from rest_framework.views import APIView

from knowledge.api.content import DocumentDetailApi, DocumentListApi, PolicyDetailApi, PolicyListApi
from knowledge.api.schema import (
    create_schema,
    delete_schema,
    partial_record,
    patch_schema,
    put_schema,
    record_ref,
)
from knowledge.api.writes import CreateMixin, EditMixin, UploadMixin
from knowledge.ingestion.formats import feed_schema

POLICY = {
    "type": "policy", "slug": "returns-eu", "kind": "returns", "locale": "en", "region": "EU", "title": "Returns (EU)",
    "body": "You may return any unused item within 30 days of delivery for a full refund.",
}  # fmt: skip
DOCUMENT = {
    "type": "document", "slug": "brio-espresso-warranty", "kind": "warranty", "format": "text",
    "title": "Brio espresso warranty", "body": "Brio covers the pump and the boiler for two years from purchase.",
    "product": "brio-espresso",
}  # fmt: skip
REVIEW = {
    "type": "review", "slug": "review-brio-1", "product": "brio-espresso", "author": "Jonas", "rating": 4,
    "body": "Good crema once the grind is right; the steam wand takes practice.",
}  # fmt: skip
QA = {
    "type": "qa", "slug": "qa-aster-kettle-1", "product": "aster-kettle", "question": "Can it boil half a litre?",
    "answer": "Yes: the minimum fill line is at 0.5 l.", "author": "Aster support",
}  # fmt: skip


def _form(required: bool) -> dict:
    """A document as multipart form fields (typed as CSV cells are) with its file in `file`."""
    properties = {
        name: copy.deepcopy(schema)
        for name, schema in feed_schema()["$defs"]["document"]["properties"].items()
        if name not in ("type", "file", "tenant", "deleted")
    }
    properties["file"] = {"type": "string", "format": "binary", "description": "A .pdf, .md or .txt file (20 MB)."}
    form = {"type": "object", "properties": properties, "additionalProperties": False}
    return {**form, "required": ["slug", "kind", "title", "file"]} if required else form


def _document_media(schema: dict, required: bool) -> dict:
    fields = {name: DOCUMENT[name] for name in ("slug", "kind", "title", "product")}
    return {
        "application/json": OpenApiRequest(schema, examples=[OpenApiExample("record", value=DOCUMENT)]),
        "multipart/form-data": OpenApiRequest(_form(required), examples=[OpenApiExample("upload", value=fields)]),
    }


@extend_schema_view(post=create_schema("policy", POLICY, tags=["policies"]))
class PolicyListCreateApi(CreateMixin, PolicyListApi):
    """List the published policies (GET), or create one and publish its version 1 (POST)."""

    record_type, permission_model = "policy", "knowledge.policy"


@extend_schema_view(
    put=put_schema("policy", POLICY, tags=["policies"]),
    patch=patch_schema("policy", {"body": "Returns are free within 30 days."}, POLICY, tags=["policies"]),
    delete=delete_schema("policy", tags=["policies"], note="Its versions stay readable through citations."),
)
class PolicyDetailEditApi(EditMixin, PolicyDetailApi):
    """Show a policy (GET); PUT or PATCH publishes its next version when the title or body changes; DELETE."""

    record_type, permission_model, url_keys = "policy", "knowledge.policy", {"slug": "slug"}


@extend_schema_view(
    post=create_schema("document", DOCUMENT, tags=["documents"], media=_document_media(record_ref("document"), True))
)
class DocumentListCreateApi(UploadMixin, CreateMixin, DocumentListApi):
    """List documents (GET), or create a manual, warranty or guide (POST): a JSON record, or a file upload."""

    record_type, permission_model = "document", "knowledge.document"


@extend_schema_view(
    put=put_schema("document", DOCUMENT, tags=["documents"], media=_document_media(record_ref("document"), True)),
    patch=patch_schema(
        "document",
        {"title": "Brio warranty"},
        DOCUMENT,
        tags=["documents"],
        media=_document_media(partial_record("document"), False),
    ),  # fmt: skip
    delete=delete_schema("document", tags=["documents"]),
)
class DocumentDetailEditApi(UploadMixin, EditMixin, DocumentDetailApi):
    """Show a document (GET); replace (PUT), change (PATCH, a new file replaces the text) or delete it."""

    record_type, permission_model, url_keys = "document", "knowledge.document", {"slug": "slug"}


@extend_schema_view(post=create_schema("review", REVIEW, tags=["reviews"]))
class ReviewCreateApi(CreateMixin, APIView):
    """Create a customer review of a product (read reviews at /documents/?kind=review)."""

    record_type, permission_model = "review", "knowledge.document"


@extend_schema_view(
    put=put_schema("review", REVIEW, tags=["reviews"]),
    patch=patch_schema("review", {"rating": 5}, REVIEW, tags=["reviews"]),
    delete=delete_schema("review", tags=["reviews"]),
)
class ReviewEditApi(EditMixin, APIView):
    """Replace (PUT), change (PATCH) or delete (DELETE) a review by slug."""

    record_type, permission_model, url_keys = "review", "knowledge.document", {"slug": "slug"}


@extend_schema_view(post=create_schema("qa", QA, tags=["q&a"]))
class QaCreateApi(CreateMixin, APIView):
    """Create a customer question and its answer about a product (read them at /documents/?kind=qa)."""

    record_type, permission_model = "qa", "knowledge.document"


@extend_schema_view(
    put=put_schema("qa", QA, tags=["q&a"]),
    patch=patch_schema("qa", {"answer": "Yes: fill it to the 0.5 l line."}, QA, tags=["q&a"]),
    delete=delete_schema("qa", tags=["q&a"]),
)
class QaEditApi(EditMixin, APIView):
    """Replace (PUT), change (PATCH) or delete (DELETE) a Q&A by slug."""

    record_type, permission_model, url_keys = "qa", "knowledge.document", {"slug": "slug"}
