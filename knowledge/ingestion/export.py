"""Write a tenant's live catalog as a JSON Lines feed that `import_catalog` reads back unchanged."""

import json
from collections.abc import Callable
from pathlib import Path

from catalog.models import Tenant
from knowledge.ingestion import snapshot
from knowledge.ingestion.records import ORDER
from knowledge.models import Document, DocumentFormat

FILES_DIR = "files"  # PDF documents are written here, beside the feed, and named by their `file` field

# The feed names a review's and a Q&A's product; once that product is deleted there is none to name.
SKIPPED = {"review": "reviews without a product (skipped)", "qa": "Q&A without a product (skipped)"}

Progress = Callable[..., object]


def _pdf_files(tenant: Tenant) -> dict[str, Document]:
    pdfs = Document.objects.filter(tenant=tenant, format=DocumentFormat.PDF).exclude(source_file="")
    return {d.slug: d for d in pdfs}


def _with_file(record: dict, document: Document, directory: Path) -> dict:
    """Point a PDF document's record at a copy of its stored file (the importer extracts the same text)."""
    relative = f"{FILES_DIR}/{document.slug}.pdf"
    (directory / FILES_DIR).mkdir(parents=True, exist_ok=True)
    with document.source_file.open("rb") as source:
        (directory / relative).write_bytes(source.read())
    record = {name: value for name, value in record.items() if name != "body"}
    record["file"] = relative
    return record


def catalog_export(tenant: Tenant, path: Path, progress: Progress) -> dict[str, int]:
    """Write every record of the tenant, parents first; return the count per type (and of reviews and Q&A skipped)."""
    counts = dict.fromkeys(ORDER, 0)
    pdfs = _pdf_files(tenant)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for record_type in progress(ORDER, desc="export", unit="type"):
            for record in snapshot.LIVE[record_type](tenant):
                if record_type in SKIPPED and record["product"] is None:
                    counts[SKIPPED[record_type]] = counts.get(SKIPPED[record_type], 0) + 1
                    continue
                if record_type == "document" and record["slug"] in pdfs:
                    record = _with_file(record, pdfs[record["slug"]], path.parent)
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                counts[record_type] += 1
    return counts
