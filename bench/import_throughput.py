"""Import throughput: a generated catalog feed imported with import_catalog's service while a real worker indexes it.

Own data folder var/bench/import-throughput, wiped at the start. The feed (bench/_feed.py: --products products,
three SKUs each with a price and stock, a manual per five products) has texts unique to the run, so every
text is embedded. It is imported into an empty tenant with the worker (and beat) running, as a shop's first
load would be:

- `rows_per_s`: feed lines over the import (`import.stage_s`, `import.decide_s`, `import.apply_s`);
  `all_searchable_s`: import start until no source waits for indexing (every chunk searchable);
- `indexing_s`: from the first apply batch's commit (its indexing tasks are sent then) until all searchable,
  the importer still writing for part of it; `chunks_per_s` and `encoded_per_s` over it; `raw_encode_per_s`:
  the same texts (every live leaf) encoded by SentenceTransformer.encode in this process, worker stopped;
  `ratio_to_raw` = encoded_per_s / raw_encode_per_s; `after_import.*`: the chunks written after the import
  finished, and their rate (the worker alone);
- `rerun.*`: the same feed again (every line unchanged): seconds, indexing tasks sent, texts embedded;
- `price_feed.*`: a feed of every SKU's price, each raised: seconds, indexing tasks sent, texts embedded, and
  for one SKU per apply batch (at most --samples) the time from the start of the batch that writes its price
  until the search API (gunicorn, one process) returns the SKU under a price filter of exactly the new price.
- `events.*`: signed `product.upsert` change events sent one at a time over HTTP, each adding a new word to a
  product's description; `events.visible_p95_ms` from sending the event until search returns the product's
  passage for that word (`events.embedded`: passages embedded for them).

`embedded` counts the distinct content hashes of chunks created since the step began that no earlier chunk
had: what the indexer had to encode (it reuses stored vectors by content hash).
Run: .venv/bin/python bench/import_throughput.py --products N --out FILE.json [--smoke]
"""

import http.client
import json
import random
import socket
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

from _feed import Feed, catalog_feed, price_feed
from _stack import (
    Workers,
    bench_arguments,
    own_folder,
    pending_count,
    setup_django,
    summary_ms,
    wait_until,
    write_report,
)

TENANT = "bench-import"
SMOKE_PRODUCTS = 50
VISIBLE_TIMEOUT_S = 60  # a sampled price not visible this long after its batch began counts as lost
POLL_PAUSE_S = 0.01
INDEX_TIMEOUT_S = 7_200


class Clock:
    """A progress factory with tqdm's signature that notes, per phase, when its bar began and each step ended.

    The importer updates the apply bar once per committed batch, so times["apply"][k] is when batch k began.
    """

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)

    def __call__(self, iterable=None, desc: str = "", **kwargs):
        self.times[desc].append(time.monotonic())
        return _Step(self, desc, iterable)


class _Step:
    def __init__(self, clock: Clock, desc: str, iterable):
        self.clock, self.desc, self.iterable = clock, desc, iterable if iterable is not None else ()

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n: int = 1) -> None:
        self.clock.times[self.desc].append(time.monotonic())

    def close(self) -> None:
        pass


class TaskCount:
    """Indexing tasks this process sends (Celery's before_task_publish signal)."""

    def __init__(self):
        from celery.signals import before_task_publish

        self.sent = 0
        before_task_publish.connect(self._count, weak=False)

    def _count(self, sender=None, **kwargs):
        from core.indexable import INDEX_TASK

        self.sent += sender == INDEX_TASK


def import_feed(tenant, feed: Feed, clock: Clock | None = None):
    from knowledge.ingestion.run import ImportOptions, feed_import

    report = feed.path.with_suffix(".report.csv")
    options = ImportOptions(report_path=report)
    result = feed_import(tenant=tenant, path=feed.path, options=options, progress=clock or Clock())
    if result.decision.rejected or result.held or result.failures:
        raise SystemExit(f"the import rejected or failed rows; see {report}")
    return result


def chunk_mark() -> int:
    from knowledge.models import Chunk

    return Chunk.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def embedded_since(mark: int) -> int:
    """Distinct texts of the chunks created after `mark` that no earlier chunk had: what had to be encoded."""
    from knowledge.models import Chunk

    new = set(Chunk.objects.filter(pk__gt=mark, is_leaf=True).values_list("content_hash", flat=True))
    known = set(Chunk.objects.filter(pk__lte=mark, content_hash__in=new).values_list("content_hash", flat=True))
    return len(new - known)


def raw_encode_rate(tenant) -> tuple[int, float]:
    """Encode every live leaf's text (title and text, as the indexer does) with SentenceTransformer.encode
    itself; return (texts, per second)."""
    from knowledge import embedding
    from knowledge.models import Chunk

    leaves = Chunk.objects.filter(tenant=tenant, is_leaf=True, retired_at__isnull=True)
    texts = list({f"{title}\n{text}" for title, text in leaves.values_list("title", "text")})
    model = embedding.encoder(embedding.default_model_path())
    options = dict(batch_size=embedding.ENCODE_BATCH, normalize_embeddings=True, show_progress_bar=False)
    model.encode(texts[:64], **options)  # warm
    start = time.perf_counter()
    model.encode(texts, **options)
    return len(texts), len(texts) / (time.perf_counter() - start)


def first_import(env: dict, tenant, feed: Feed, tasks: TaskCount) -> dict:
    from django.utils import timezone

    from knowledge.models import Chunk

    workers = Workers(env, "bench-import").start()
    clock, mark = Clock(), chunk_mark()
    try:
        began = time.monotonic()
        import_feed(tenant, feed, clock)
        imported, imported_at = time.monotonic(), timezone.now()
        wait_until(lambda: pending_count() == 0, INDEX_TIMEOUT_S, "indexing", every=0.25)
        searchable = time.monotonic()
    finally:
        workers.stop()
    leaves = Chunk.objects.filter(tenant=tenant, is_leaf=True, retired_at__isnull=True)
    chunks, after_import = leaves.count(), leaves.filter(created_at__gte=imported_at).count()
    stage, apply = clock.times["stage"], clock.times["apply"]
    encoded, indexing_s = embedded_since(mark), searchable - apply[min(1, len(apply) - 1)]
    texts, raw = raw_encode_rate(tenant)
    return {
        "rows": feed.lines,
        "import_s": round(imported - began, 1),
        "import.stage_s": round(stage[-1] - stage[0], 1),
        "import.decide_s": round(apply[0] - stage[-1], 1),
        "import.apply_s": round(apply[-1] - apply[0], 1),
        "rows_per_s": round(feed.lines / (imported - began), 1),
        "index_tasks": tasks.sent,
        "chunks": chunks,
        "encoded": encoded,
        "indexing_s": round(indexing_s, 1),
        "all_searchable_s": round(searchable - began, 1),
        "chunks_per_s": round(chunks / indexing_s, 1),
        "encoded_per_s": round(encoded / indexing_s, 1),
        "raw_texts": texts,
        "raw_encode_per_s": round(raw, 1),
        "ratio_to_raw": round(encoded / indexing_s / raw, 3),
        "after_import.chunks": after_import,
        "after_import.chunks_per_s": round(after_import / max(searchable - imported, 1e-9), 1),
        "after_import.ratio_to_raw": round(after_import / max(searchable - imported, 1e-9) / raw, 3),
    }


def rerun(env: dict, tenant, feed: Feed, tasks: TaskCount) -> dict:
    workers = Workers(env, "bench-import").start()
    mark, sent = chunk_mark(), tasks.sent
    try:
        began = time.monotonic()
        result = import_feed(tenant, feed)
        seconds = time.monotonic() - began
        wait_until(lambda: pending_count() == 0, INDEX_TIMEOUT_S, "indexing", every=0.25)
    finally:
        workers.stop()
    return {
        "rerun.s": round(seconds, 1),
        "rerun.applied": result.applied.applied,
        "rerun.index_tasks": tasks.sent - sent,
        "rerun.embedded": embedded_since(mark),
    }


class SearchApi:
    """gunicorn serving the search API (one process), and a key of the tenant."""

    def __init__(self, env: dict, tenant):
        from config import embedded, stack
        from governance.models import ApiKey, RatePlan, hash_key

        RatePlan.objects.update_or_create(tenant=tenant, defaults={"name": "bench", "requests_per_minute": 10**6})
        prefix, self.key = ApiKey.generate()
        ApiKey.objects.create(tenant=tenant, name="bench import", prefix=prefix, key_hash=hash_key(self.key))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = stack.web_command(self.port)
        command[command.index("-w") + 1] = "1"
        self.log = open(embedded.data_dir() / "bench-import-web.log", "ab")  # noqa: SIM115 - closed in stop()
        self.child = stack.spawn(command, {**env, "LOG_LEVEL": "WARNING"}, self.log)
        wait_until(self._up, 180, "gunicorn")

    def _up(self) -> bool:
        if self.child.poll() is not None:
            raise SystemExit(f"gunicorn exited with {self.child.returncode}; see {self.log.name}")
        try:
            self.hits("warm-up", None)
            return True
        except OSError:
            return False

    def hits(self, query: str, price, conn: http.client.HTTPConnection | None = None) -> list[str]:
        """Citation ids the search API returns for `query`, filtered to exactly `price` when given."""
        params = {"q": query, "page_size": 10}
        if price is not None:
            params.update(price_min=str(price), price_max=str(price))
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", "/api/v1/search/?" + urlencode(params), headers={"Authorization": f"Api-Key {self.key}"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"search {query!r}: HTTP {response.status}: {body[:300]!r}")
        return [hit["citation_id"] for hit in json.loads(body)["results"]]

    def stop(self) -> None:
        from config import stack

        stack.stop([self.child])
        self.log.close()


def sample_skus(feed: Feed, samples: int, batch_size: int, rng: random.Random) -> list[tuple[int, object]]:
    """(apply batch, SKU row): one random SKU of each batch, at most `samples` batches spread over the feed."""
    batches = (len(feed.skus) + batch_size - 1) // batch_size
    count = min(samples, batches)
    chosen = sorted({round(i * (batches - 1) / max(1, count - 1)) for i in range(count)})
    picks = []
    for batch in chosen:
        rows = feed.skus[batch * batch_size : (batch + 1) * batch_size]
        picks.append((batch, rng.choice(rows)))
    if len(picks) < 3:  # a smoke-sized feed is one batch: sample a few of its SKUs
        picks += [(0, row) for row in rng.sample(feed.skus[:batch_size], min(3, len(feed.skus)))]
    return picks


def watch_price(api: SearchApi, clock: Clock, batch: int, row, seen: dict) -> None:
    """Wait for the batch that writes `row`'s price to begin, then search until the new price filter finds it."""
    deadline = time.monotonic() + VISIBLE_TIMEOUT_S * 10
    while len(clock.times["apply"]) <= batch:
        if time.monotonic() > deadline:
            return
        time.sleep(0.002)
    began, conn = clock.times["apply"][batch], http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    while time.monotonic() - began < VISIBLE_TIMEOUT_S:
        if any(c.startswith(f"sku:{row.code}@") for c in api.hits(row.code, row.amount, conn)):
            seen[row.code] = time.monotonic() - began
            return
        time.sleep(POLL_PAUSE_S)


def price_change(env: dict, tenant, feed: Feed, samples: int, tasks: TaskCount) -> dict:
    from knowledge.ingestion.apply import APPLY_BATCH

    workers = Workers(env, "bench-import").start()
    api = SearchApi(env, tenant)
    prices = price_feed(feed.path.with_name("prices.jsonl"), feed.skus)
    picks = sample_skus(prices, samples, APPLY_BATCH, random.Random(7))
    mark, sent, clock, seen = chunk_mark(), tasks.sent, Clock(), {}
    watchers = [threading.Thread(target=watch_price, args=(api, clock, b, row, seen), daemon=True) for b, row in picks]
    try:
        for watcher in watchers:
            watcher.start()
        began = time.monotonic()
        import_feed(tenant, prices, clock)
        seconds = time.monotonic() - began
        for watcher in watchers:
            watcher.join(VISIBLE_TIMEOUT_S)
        wait_until(lambda: pending_count() == 0, INDEX_TIMEOUT_S, "indexing", every=0.25)
    finally:
        api.stop()
        workers.stop()
    visible = summary_ms(list(seen.values()))
    return {
        "price_feed.rows": prices.lines,
        "price_feed.s": round(seconds, 1),
        "price_feed.index_tasks": tasks.sent - sent,
        "price_feed.embedded": embedded_since(mark),
        "price_feed.samples": len(picks),
        "price_feed.visible_p50_ms": visible["p50_ms"],
        "price_feed.visible_p95_ms": visible["p95_ms"],
        "price_feed.visible_max_ms": round(max(seen.values()) * 1000, 1) if seen else None,
        "price_feed.lost": len(picks) - len(seen),
    }


def watch_event(api: SearchApi, token: str, handle: str, sent_at: float) -> float | None:
    """Search for the event's new word until the product's passage comes back; seconds from sending, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    while time.monotonic() - sent_at < VISIBLE_TIMEOUT_S:
        if any(c.startswith(f"product:{handle}@") for c in api.hits(token, None, conn)):
            return time.monotonic() - sent_at
        time.sleep(POLL_PAUSE_S)
    return None


def send_event(api: SearchApi, source: str, secret: str, event: dict) -> None:
    from knowledge.ingestion.signing import signed_headers

    body = json.dumps(event).encode()
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
    conn.request("POST", f"/api/v1/events/{source}/", body=body, headers=headers)
    response = conn.getresponse()
    answer = response.read()
    if response.status != 200:
        raise SystemExit(f"event {event['id']}: HTTP {response.status}: {answer[:300]!r}")


def change_events(env: dict, tenant, samples: int) -> dict:
    """Signed product events, one at a time, each adding a word to a description: arrival to searchable."""
    from catalog.models import Product
    from knowledge.ingestion.event_sources import event_source_create
    from knowledge.ingestion.single import record_get

    issued = event_source_create(tenant=tenant, name=f"{TENANT}-pim")
    handles = list(Product.objects.filter(tenant=tenant).order_by("?").values_list("handle", flat=True)[:samples])
    workers = Workers(env, "bench-import").start()
    api = SearchApi(env, tenant)
    rng, mark, seen = random.Random(11), chunk_mark(), []
    try:
        for number, handle in enumerate(handles):
            record = record_get(tenant, "product", {"handle": handle})
            token = "evq" + "".join(rng.choice("bcdfghjkmnpqrstvwxz") for _ in range(8))
            record["description"] = f"{record.get('description', '')} {token}".strip()
            event = {"id": f"bench-{number}", "type": "product.upsert", "version": 1, "data": record}
            sent_at = time.monotonic()
            send_event(api, issued.source.name, issued.secret, event)
            visible = watch_event(api, token, handle, sent_at)
            if visible is not None:
                seen.append(visible)
        wait_until(lambda: pending_count() == 0, INDEX_TIMEOUT_S, "indexing", every=0.25)
    finally:
        api.stop()
        workers.stop()
    visible = summary_ms(seen)
    return {
        "events.sent": len(handles),
        "events.embedded": embedded_since(mark),
        "events.visible_p50_ms": visible["p50_ms"],
        "events.visible_p95_ms": visible["p95_ms"],
        "events.visible_max_ms": round(max(seen) * 1000, 1) if seen else None,
        "events.lost": len(handles) - len(seen),
    }


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--products", type=int, default=10_000, help="products in the feed (three SKUs each)")
    parser.add_argument("--samples", type=int, default=40, help="SKUs whose new price is looked for in search")
    args = parser.parse_args()
    products = SMOKE_PRODUCTS if args.smoke else args.products
    folder = own_folder("import-throughput", smoke=args.smoke)
    env = setup_django()
    from catalog import services

    tenant = services.tenant_create(slug=TENANT, name="Bench import")
    feed = catalog_feed(Path(folder) / "feed" / "catalog.jsonl", products, seed=random.SystemRandom().randrange(10**9))
    tasks = TaskCount()
    figures = {"products": products, **first_import(env, tenant, feed, tasks)}
    figures.update(rerun(env, tenant, feed, tasks))
    figures.update(price_change(env, tenant, feed, args.samples, tasks))
    figures.update(change_events(env, tenant, 5 if args.smoke else args.samples))
    write_report(figures, args.out)


if __name__ == "__main__":
    main()
