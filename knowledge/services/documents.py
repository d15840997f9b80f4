"""Documents: markdown, plain text, PDF (text extracted with pypdf) and reviews, each edit versioned."""

import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from catalog.models import TITLE_MAX, Tenant
from core.indexable import index_mark_changed, index_schedule
from knowledge.models import Document, DocumentFormat, DocumentKind, DocumentVersion, SourceKind
from knowledge.services.indexing import chunks_retire

DOCUMENT_FIELDS = ("slug", "kind", "format", "locale", "title", "question", "body", "product", "rating", "author")
PDF_MAGIC = b"%PDF-"
UPLOAD_MAX_BYTES = 20 * 1024 * 1024


def qa_title(author: str) -> str:
    """A Q&A's title: who answered, never the question (the answer alone is what search indexes)."""
    return f"Answer by {author}"[:TITLE_MAX] if author else "Customer answer"


def pdf_extract_text(data: bytes) -> str:
    """Return the text of a PDF's pages, or raise a ValidationError that says what is wrong with the file."""
    if not data.startswith(PDF_MAGIC):
        raise ValidationError({"source_file": "This file is not a PDF (it does not start with %PDF-)."})
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError({"source_file": f"This PDF cannot be read: {exc}"}) from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise ValidationError({"source_file": "This PDF has no extractable text (is it a scan?)."})
    return text


def text_decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {"source_file": f"This file is not valid UTF-8 text (bad byte at position {exc.start})."}
        ) from exc


def document_text_from_upload(fmt: str, data: bytes) -> str:
    if len(data) > UPLOAD_MAX_BYTES:
        raise ValidationError({"source_file": f"The file is larger than {UPLOAD_MAX_BYTES // 2**20} MB."})
    return pdf_extract_text(data) if fmt == DocumentFormat.PDF else text_decode(data)


def _snapshot(document: Document, created_by) -> None:
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    document.version = number
    DocumentVersion.objects.create(
        document=document, number=number, title=document.title, body=document.body, created_by=created_by
    )


@transaction.atomic
def document_create(*, tenant: Tenant, upload: bytes | None = None, filename: str = "", created_by=None, **fields):
    document = Document(tenant=tenant)
    _set_fields(document, fields, upload, filename)
    index_mark_changed(document)
    document.full_clean()
    document.save()
    _snapshot(document, created_by)
    document.save(update_fields=["version"])
    index_schedule(SourceKind.DOCUMENT, [document.pk])
    return document


@transaction.atomic
def document_update(document: Document, *, upload: bytes | None = None, filename: str = "", created_by=None, **fields):
    """Apply an edit (or a new file); a changed title or body becomes a new version."""
    before = _indexed_values(document)
    _set_fields(document, fields, upload, filename)
    document.full_clean()
    saved = [*fields, "body", "source_file", "updated_at"]  # never the worker's bookkeeping columns
    if _indexed_values(document) != before:
        index_mark_changed(document)
        saved += ["index_changed_at", "index_error", "index_attempts"]
    if (document.title, document.body) != before[:2]:
        _snapshot(document, created_by)
        saved.append("version")
    document.save(update_fields=saved)
    index_schedule(SourceKind.DOCUMENT, [document.pk])
    return document


def _indexed_values(document: Document) -> tuple:
    """What the index is built from (title and body first): a change to any of it re-indexes."""
    return (document.title, document.body, document.kind, document.locale, document.product_id, document.slug)


def _set_fields(document: Document, fields: dict, upload: bytes | None, filename: str) -> None:
    unknown = set(fields) - set(DOCUMENT_FIELDS)
    if unknown:
        raise TypeError(f"cannot set {sorted(unknown)} on Document")
    for name, value in fields.items():
        setattr(document, name, value)
    if document.kind == DocumentKind.QA:
        document.title = qa_title(document.author)  # never the question: a title is indexed with the answer
    if upload is not None:
        document.body = document_text_from_upload(document.format, upload)
        from django.core.files.base import ContentFile

        document.source_file.save(filename or f"{document.slug}.{document.format}", ContentFile(upload), save=False)
    elif document.format == DocumentFormat.PDF and not document.source_file and not document.body:
        raise ValidationError({"source_file": "A PDF document needs its PDF file."})


@transaction.atomic
def document_delete(document: Document) -> None:
    chunks_retire(SourceKind.DOCUMENT, [document.pk])
    document.delete()
