"""Helpers for the feed tests: write feeds, run the import command, read a tenant's catalog as records."""

import io
import json
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import SKU, Price, Product, StockLevel
from core.indexable import PENDING
from knowledge.ingestion import snapshot
from knowledge.ingestion.records import natural_key
from knowledge.models import Chunk, ChunkEmbedding, Document, Policy
from knowledge.sources import SOURCES

SAMPLE_FEED = Path(__file__).resolve().parents[2] / "docs" / "sample-feed.jsonl"


def write_feed(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def run_import(path: Path, tenant, *args: str) -> tuple[bool, str]:
    """Run import_catalog; return (succeeded, stdout plus the error message)."""
    out = io.StringIO()
    try:
        call_command("import_catalog", str(path), "--tenant", tenant.slug, *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def catalog_records(tenant) -> dict[str, dict[str, dict]]:
    """Every live row of the tenant as feed records, by type and natural key (what export writes)."""
    return {t: {natural_key(t, r): r for r in read(tenant)} for t, read in snapshot.LIVE.items()}


def stored_state(tenant) -> dict:
    """What a feed could change: the catalog's records, row counts, versions and hashes."""
    return {
        "records": catalog_records(tenant),
        "products": sorted(Product.objects.filter(tenant=tenant).values_list("handle", "version", "content_hash")),
        "skus": sorted(SKU.objects.filter(tenant=tenant).values_list("code", "version", "content_hash")),
        "prices": Price.objects.filter(price_list__tenant=tenant).count(),
        "stock": StockLevel.objects.filter(warehouse__tenant=tenant).count(),
        "policies": sorted(Policy.objects.filter(tenant=tenant).values_list("slug", "content_hash")),
        "documents": sorted(Document.objects.filter(tenant=tenant).values_list("slug", "version", "content_hash")),
    }


def index_state(tenant) -> dict:
    """The tenant's chunks (ids and content hashes, live or retired) and vectors: what indexing writes."""
    return {
        "chunks": sorted(Chunk.objects.filter(tenant=tenant).values_list("pk", "content_hash", "retired_at")),
        "embeddings": sorted(ChunkEmbedding.objects.filter(chunk__tenant=tenant).values_list("pk", flat=True)),
    }


def nothing_pending() -> bool:
    return not any(spec.model.objects.filter(PENDING).exists() for spec in SOURCES.values())
