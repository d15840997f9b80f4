"""Freshness: 200 edits spread over 20 s through the service layer, one worker.

For each edit: the time from its commit until a vector search returns the new text. Own data folder
var/bench/freshness, wiped at the start. --smoke: 50 edits over 5 s.
Run: .venv/bin/python bench/freshness.py --out FILE.json
"""

import random
import threading
import time

from _stack import Workers, bench_arguments, own_folder, setup_django, summary_ms, wait_until, write_report

TENANT = "bench-freshness"
VISIBLE_TIMEOUT_S = 30  # an edit not searchable this long after the last edit counts as lost
POLL_PAUSE_S = 0.01  # the resolution of the measured latency
SEARCH_K = 10


def vocabulary() -> list[str]:
    """Whole words from the model's own vocabulary: each edit's text is distinct from every other."""
    from knowledge import embedding

    tokenizer = embedding.encoder(embedding.default_model_path()).tokenizer
    return sorted(w for w in tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) >= 6)


def ensure_products(count: int):
    from catalog import services
    from catalog.models import Category, Product, Tenant

    tenant = Tenant.objects.filter(slug=TENANT).first() or services.tenant_create(slug=TENANT, name="Bench freshness")
    category = Category.objects.filter(tenant=tenant).first() or services.category_create(
        tenant=tenant, name="Lamps", slug="lamps"
    )
    existing = {p.handle: p for p in Product.objects.filter(tenant=tenant)}
    for i in range(count):
        if f"lamp-{i}" not in existing:
            existing[f"lamp-{i}"] = services.product_create(
                tenant=tenant, category=category, handle=f"lamp-{i}", title=f"Reading lamp {i}", brand="Lumen",
                description="A reading lamp.",
            )  # fmt: skip
    return tenant, [existing[f"lamp-{i}"] for i in range(count)]


def planned_edits(products, count: int):
    """Texts unique to this run (a re-run must not find its edits already indexed)."""
    run = int(time.time())
    rng, words = random.Random(run), vocabulary()
    return [
        (products[i % len(products)], f"Edition {run}-{i}: " + " ".join(rng.sample(words, 12)) + ".")
        for i in range(count)
    ]


class Poller(threading.Thread):
    """Search for every pending edit until the vector leg returns its new text."""

    def __init__(self, tenant_id: int, space):
        super().__init__(daemon=True)
        self.tenant_id, self.space = tenant_id, space
        self.pending: dict[int, tuple] = {}
        self.latencies: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def add(self, i: int, product_id: int, marker: str, vector, committed_at: float) -> None:
        with self.lock:
            self.pending[i] = (product_id, marker, vector, committed_at)

    def run(self) -> None:
        """Ask the database which pending edits were indexed (one cheap query), then confirm each with
        the vector search; the poller must not eat the worker's CPU by searching for unindexed edits."""
        from catalog.models import Product
        from core.indexable import PENDING
        from knowledge.retrieval.vector import chunk_search_vector_by

        while not self.stopped.is_set():
            with self.lock:
                items = dict(self.pending)
            product_ids = {product_id for product_id, *_ in items.values()}
            indexed = set(Product.objects.filter(pk__in=product_ids).exclude(PENDING).values_list("pk", flat=True))
            for i, (product_id, marker, vector, committed_at) in items.items():
                if product_id not in indexed:
                    continue
                hits = chunk_search_vector_by(
                    tenant_id=self.tenant_id, vector=vector, k=SEARCH_K, locale=None, space=self.space
                )
                if any(h.chunk.source_id == product_id and marker in h.chunk.text for h in hits):
                    seen = time.monotonic()
                    with self.lock:
                        self.pending.pop(i, None)
                        self.latencies[i] = seen - committed_at
            time.sleep(POLL_PAUSE_S)


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--edits", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    args.edits = args.edits or (50 if args.smoke else 200)
    args.seconds = args.seconds or (5.0 if args.smoke else 20.0)
    own_folder("freshness", smoke=args.smoke)
    env = setup_django()
    from catalog import services
    from catalog.models import Product
    from core.indexable import PENDING
    from knowledge import embedding
    from knowledge.services.spaces import active_space

    tenant, products = ensure_products(args.edits)
    workers = Workers(env, "bench-freshness").start()
    try:
        wait_until(lambda: not Product.objects.filter(tenant=tenant).filter(PENDING).exists(), 300, "initial indexing")
        space = active_space()
        edits = planned_edits(products, args.edits)
        vectors = embedding.encode(embedding.model_path_for(space), [f"{p.title}\n{text}" for p, text in edits])
        poller = Poller(tenant.pk, space)
        poller.start()
        interval, start = args.seconds / args.edits, time.monotonic()
        for i, ((product, text), vector) in enumerate(zip(edits, vectors, strict=True)):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            services.product_update(product, description=text)
            poller.add(i, product.pk, text.split(":")[0] + ":", vector, time.monotonic())
        deadline = time.monotonic() + VISIBLE_TIMEOUT_S
        while poller.pending and time.monotonic() < deadline:
            time.sleep(0.1)
        poller.stopped.set()
    finally:
        workers.stop()
    latencies = list(poller.latencies.values())
    figures = {"edits": args.edits, "seconds": args.seconds, **summary_ms(latencies), "lost": len(poller.pending)}
    figures["max_ms"] = round(max(latencies) * 1000, 1) if latencies else None
    write_report(figures, args.out)


if __name__ == "__main__":
    main()
