"""Typo tolerance: demo product titles with one or two character edits; is the product in the top 5?

Each leg (fuzzy, keyword, vector) and the storefront search itself (`search`: the tenant's weighted
fusion and re-rankers, as GET /api/v1/search/ runs it) are scored on the same queries, built
deterministically from the demo catalog (seeded on first use).
Run: .venv/bin/python bench/typo_tolerance.py --out FILE.json
"""

import argparse
import random
import sys

from _stack import Workers, run, setup_django, wait_until, write_report
from _text import misspell

TOP = 5
CANDIDATES = 50  # chunks per leg: several chunks (SKUs, locales) can belong to one product


def products_of(hits) -> list[int]:
    """Distinct products in rank order (a SKU or a translation counts for its product)."""
    seen = []
    for chunk in hits:
        if chunk.product_id and chunk.product_id not in seen:
            seen.append(chunk.product_id)
    return seen


def rankings(tenant, query: str) -> dict[str, list]:
    from core.tenancy import Caller
    from knowledge.retrieval.fuzzy import chunk_search_fuzzy
    from knowledge.retrieval.keyword import chunk_search_keyword
    from knowledge.retrieval.request import SearchRequest
    from knowledge.retrieval.search import search
    from knowledge.retrieval.vector import chunk_search_vector

    tenant_id = tenant.pk
    legs = {
        "fuzzy": [h.chunk for h in chunk_search_fuzzy(tenant_id=tenant_id, query=query, k=CANDIDATES)],
        "keyword": [h.chunk for h in chunk_search_keyword(tenant_id=tenant_id, query=query, k=CANDIDATES)],
        "vector": [h.chunk for h in chunk_search_vector(tenant_id=tenant_id, query=query, k=CANDIDATES)],
    }
    legs["fused"] = [hit.chunk for hit in search(SearchRequest(caller=Caller.of(tenant), query=query, size=50)).hits]
    return {name: products_of(chunks)[:TOP] for name, chunks in legs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--out")
    args = parser.parse_args()
    env = setup_django()
    from catalog.models import Product, Tenant
    from core.indexable import PENDING
    from knowledge.sources import SOURCES

    if not Tenant.objects.filter(slug="acme-retail").exists():
        run([sys.executable, "manage.py", "seed_demo"], env)
    if any(spec.model.objects.filter(PENDING).exists() for spec in SOURCES.values()):
        workers = Workers(env, "bench-typo").start(beat=False)
        try:
            wait_until(
                lambda: not any(s.model.objects.filter(PENDING).exists() for s in SOURCES.values()), 900, "indexing"
            )
        finally:
            workers.stop()
    rng = random.Random(11)
    products = list(
        Product.objects.select_related("tenant").filter(
            tenant__slug__in=["acme-retail", "boltwerk-industrial"], is_active=True
        )
    )
    products = rng.sample(sorted(products, key=lambda p: p.pk), args.queries)
    found = {"fuzzy": 0, "keyword": 0, "vector": 0, "fused": 0}
    for product in products:
        ranked = rankings(product.tenant, misspell(product.title, rng))
        for name in found:
            found[name] += product.pk in ranked[name]
    figures = {"queries": len(products)} | {
        f"{name}.top{TOP}": round(n / len(products), 3) for name, n in found.items()
    }
    write_report(figures, args.out)


if __name__ == "__main__":
    main()
