"""Load a product QA set into a fresh tenant through the catalog importer, as a shop's feed would arrive.

One product per product id (titled from the id: the sets have none), with one SKU priced in the evaluation
customer group's price list and in stock, so an API key of that group sees and may ask about it. Each
snippet is one document attached to its product, its slug the snippet's id, so a citation names the snippet
it quotes: reviews as reviews, community answers as Q&A (the answer only), and what the product's maker
states (attributes, feature bullets, descriptions) as product information (`spec`).

The previous load's tenant is deleted only after the new one is indexed, so the indexing path finds every
vector by content hash and encodes nothing twice (as `knowledge.retrieval.evaluation.beir_load` does).
"""

import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import slugify

from assistant.evaluation.dataset import PqaSet, Snippet
from catalog.models import SKU, Category, CustomerGroup, PriceList, Product, Tenant
from catalog.services import tenant_create
from core.indexable import INDEX_BATCH, PENDING
from core.tenancy import Caller
from governance.keys import api_key_create
from governance.models import ApiKey
from knowledge.ingestion.apply import problem_lines
from knowledge.ingestion.progress import no_progress
from knowledge.ingestion.run import ImportOptions, feed_import
from knowledge.models import Chunk, Document, SourceKind
from knowledge.services.indexing import sources_index

GROUP = "shoppers"  # the customer group the evaluation's API key belongs to
CATEGORY = "products"
SLUG_PATTERN = "^[A-Za-z0-9_-]+$"
SLUG_MAX = 120
KIND_OF_SOURCE = {"review": "review", "cqa": "qa"}  # every other source is the product's own text
SPEC_TITLES = {"attribute": "Attribute", "bullet": "Feature", "desc": "Description", "osp": "Product information"}
INDEX_WAIT_S = 900  # rows a worker holds are indexed by it: wait at most this long for them
FIRST_PROBLEMS = 10


@dataclass
class Loaded:
    tenant: Tenant
    caller: Caller
    handles: dict[str, str]  # product id -> handle
    product_pks: dict[str, int]  # product id -> Product pk
    snippet_of_chunk: dict[int, str] = field(default_factory=dict)  # leaf chunk id -> snippet id
    product_of_chunk: dict[int, int | None] = field(default_factory=dict)  # leaf chunk id -> Product pk
    seconds: float = 0.0
    snippets: int = 0
    snippets_split: int = 0  # snippets indexed as more than one leaf chunk (long texts)
    snippets_skipped: int = 0  # snippets without text: nothing to index


def _key(value: str, taken: set[str]) -> str:
    """A slug for `value`: itself when it is one, else a slugified form made unique."""
    key = value if re.fullmatch(SLUG_PATTERN, value) and len(value) <= SLUG_MAX else ""
    if not key or key in taken:
        base = (slugify(value) or "item")[: SLUG_MAX - 8]
        key, n = base, 1
        while key in taken:
            key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def _snippet_record(snippet: Snippet, slug: str, handle: str) -> dict:
    kind = KIND_OF_SOURCE.get(snippet.source.lower(), "spec")
    if kind == "review":
        return {"type": "review", "slug": slug, "product": handle, "author": "Customer", "body": snippet.text}
    if kind == "qa":
        return {"type": "qa", "slug": slug, "product": handle, "answer": snippet.text}
    title = SPEC_TITLES.get(snippet.source.lower(), "Product information")
    return {"type": "document", "slug": slug, "kind": "spec", "format": "text", "title": title,
            "body": snippet.text, "product": handle}  # fmt: skip


def feed_records(data: PqaSet, products: list[str]) -> tuple[list[dict], dict[str, str], dict[str, str]]:
    """The feed for these products and their snippets; also product id -> handle and document slug -> snippet."""
    records = [
        {"type": "category", "path": CATEGORY, "name": "Products"},
        {"type": "customer_group", "code": GROUP, "name": "Shoppers"},
        {"type": "price_list", "code": GROUP, "name": "Shoppers", "currency": "USD", "customer_group": GROUP},
        {"type": "warehouse", "code": "main", "name": "Main warehouse", "country": "US"},
    ]
    handles, taken = {}, set()
    for product in products:
        handle = handles[product] = _key(product.lower(), taken)
        sku = f"{handle.upper()}-1"
        records += [
            {"type": "product", "handle": handle, "category": CATEGORY, "title": f"Product {product}"},
            {"type": "sku", "code": sku, "product": handle},
            {"type": "price", "price_list": GROUP, "sku": sku, "amount": "10.00"},
            {"type": "stock", "warehouse": "main", "sku": sku, "quantity": 10},
        ]
    slugs, taken = {}, set(handles.values())
    wanted = set(products)
    for snippet in data.snippets.values():
        if snippet.product in wanted and snippet.text.strip():
            slug = _key(snippet.id, taken)
            slugs[slug] = snippet.id
            records.append(_snippet_record(snippet, slug, handles[snippet.product]))
    return records, handles, slugs


class LoadFailed(Exception):
    """The feed did not import cleanly (it is written by this module: a defect, or an unusable set)."""


def _import(tenant: Tenant, records: list[dict], progress) -> None:
    with tempfile.TemporaryDirectory(prefix="evaluate-answers-") as folder:
        feed = Path(folder) / "feed.jsonl"
        with open(feed, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        options = ImportOptions(report_path=Path(folder) / "report.csv")
        result = feed_import(tenant=tenant, path=feed, options=options, progress=progress)
        if result.held or result.decision.rejected or result.failures:
            problems = "\n".join(problem_lines(result.run, FIRST_PROBLEMS))
            reasons = "; ".join(reason["detail"] for reason in result.held)
            raise LoadFailed(f"the set's feed did not import cleanly ({reasons or 'rejected lines'}):\n{problems}")


def _pending(tenant: Tenant) -> dict[str, list[int]]:
    return {
        kind: list(model.objects.filter(PENDING, tenant=tenant).values_list("pk", flat=True))
        for kind, model in (("product", Product), ("sku", SKU), ("doc", Document))
    }


def index_tenant(tenant: Tenant, progress=no_progress) -> None:
    """Index the tenant's rows here, in encoder-sized batches, until none waits (a worker may take some too)."""
    deadline = time.monotonic() + INDEX_WAIT_S
    pending = _pending(tenant)
    bar = progress(total=sum(len(ids) for ids in pending.values()), desc="indexing", unit="row")
    while any(pending.values()):
        for kind, ids in pending.items():
            for start in range(0, len(ids), INDEX_BATCH):
                sources_index(kind, ids[start : start + INDEX_BATCH], drain=False)
                bar.update(len(ids[start : start + INDEX_BATCH]))
        pending = _pending(tenant)
        if any(pending.values()) and time.monotonic() > deadline:
            raise LoadFailed(f"{sum(map(len, pending.values()))} rows still wait for indexing")
        if any(pending.values()):
            time.sleep(0.5)  # rows a worker holds right now: it is indexing them
    bar.close()


def _chunk_maps(loaded: Loaded, slugs: dict[str, str]) -> None:
    chunks = Chunk.objects.filter(tenant=loaded.tenant, retired_at__isnull=True, is_leaf=True)
    for pk, kind, key, product_id in chunks.values_list("pk", "source_kind", "source_key", "product_id"):
        loaded.product_of_chunk[pk] = product_id
        if kind == SourceKind.DOCUMENT and key in slugs:
            loaded.snippet_of_chunk[pk] = slugs[key]
    per_document = chunks.filter(source_kind=SourceKind.DOCUMENT).values("source_id").annotate(n=Count("pk"))
    loaded.snippets = len(slugs)
    loaded.snippets_split = sum(1 for row in per_document if row["n"] > 1)


@transaction.atomic
def _tenants_delete(tenants) -> None:
    """Delete evaluation tenants whole: first the rows whose references protect the ones the tenant cascades to
    (keys name customer groups, price lists name them too, products name their category)."""
    ApiKey.objects.filter(tenant__in=tenants).delete()
    PriceList.objects.filter(tenant__in=tenants).delete()
    Product.objects.filter(tenant__in=tenants).delete()
    Category.objects.filter(tenant__in=tenants).delete()  # one level: the feed makes a single category
    Tenant.objects.filter(pk__in=tenants).delete()


def _swap_in(slug: str, tenant: Tenant) -> None:
    """Delete the previous (or an interrupted) load's tenant, then give the new one the slug."""
    previous = Tenant.objects.filter(Q(slug__startswith=f"{slug}-old-") | Q(slug__startswith=f"{slug}-new-"))
    _tenants_delete(list(previous.exclude(pk=tenant.pk).values_list("pk", flat=True)))
    Tenant.objects.filter(pk=tenant.pk).update(slug=slug)
    tenant.slug = slug


def pqa_load(data: PqaSet, products: list[str], slug: str, progress: Callable = no_progress) -> Loaded:
    """Import these products and their snippets into a fresh tenant `slug`, index it, and issue its API key."""
    started = time.monotonic()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    Tenant.objects.filter(slug=slug).update(slug=f"{slug}-old-{stamp}"[:50])
    tenant = tenant_create(slug=f"{slug}-new-{stamp}"[:50], name=f"Answer evaluation {data.name}")
    records, handles, slugs = feed_records(data, products)
    _import(tenant, records, progress)
    index_tenant(tenant, progress)
    _swap_in(slug, tenant)
    group = CustomerGroup.objects.get(tenant=tenant, code=GROUP)
    issued = api_key_create(tenant=tenant, name="answer evaluation", customer_group=group)
    pks = dict(Product.objects.filter(tenant=tenant).values_list("handle", "pk"))
    loaded = Loaded(tenant, Caller.of(tenant, group, issued.key), handles, {p: pks[h] for p, h in handles.items()})
    _chunk_maps(loaded, slugs)
    loaded.snippets_skipped = sum(1 for s in data.snippets.values() if s.product in handles and not s.text.strip())
    loaded.seconds = time.monotonic() - started
    return loaded
