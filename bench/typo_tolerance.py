"""Typo tolerance: demo product titles with one or two character edits; is the product in the top 5?

Each leg (fuzzy, keyword, vector) and the storefront search itself (`search`: the tenant's weighted
fusion and re-rankers, as GET /api/v1/search/ runs it) are scored on the same queries, built
deterministically from the demo catalog. Own data folder var/bench/typo, wiped at the start; the demo is
seeded and indexed by a real worker. --smoke: a small factory-built tenant instead of the demo.
Run: .venv/bin/python bench/typo_tolerance.py --out FILE.json [--smoke]
"""

import random
import sys

from _stack import bench_arguments, index_all, own_folder, run, setup_django, write_report
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


def load_catalog(env: dict, smoke: bool) -> list[str]:
    """Seed the demo (--smoke: the smoke tenant) and index it with a real worker; return the tenants' slugs."""
    if smoke:
        from _smoke import TENANT, smoke_catalog

        smoke_catalog()
        slugs = [TENANT]
    else:
        run([sys.executable, "manage.py", "seed_demo"], env)
        slugs = ["acme-retail", "boltwerk-industrial"]
    index_all(env, "bench-typo", timeout=900)
    return slugs


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--queries", type=int)
    args = parser.parse_args()
    args.queries = args.queries or (20 if args.smoke else 150)
    own_folder("typo", smoke=args.smoke)
    env = setup_django()
    from catalog.models import Product

    slugs = load_catalog(env, args.smoke)
    rng = random.Random(11)
    products = list(Product.objects.select_related("tenant").filter(tenant__slug__in=slugs, is_active=True))
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
