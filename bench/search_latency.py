"""Search latency: GET /api/v1/search/ end to end (HTTP, API-key auth, query embedding, every leg, fusion,
visibility and facets, serialization) on a synthetic catalog of 100k and 1M SKUs, unfiltered and with
selective filters, with 1 and 8 concurrent clients.

Each size owns its data folder and embedded servers (var/bench/search-<size>) and is measured in a child
process of its own, since Django binds one database per process. The data set is built once per size (see
bench/_searchdata.py: bulk COPY of catalog rows and of the chunks, vectors and postings the indexer would
have written) and reused by this benchmark only, while the generator version and parameters match;
--rebuild wipes the folder and builds anew. A run on existing data only measures (after checking a sample
of the stored chunks against what the indexer plans today). --smoke: a 50-product size, built anew each
time, with a few requests per configuration.
The keyword packs are then built where due (`keyword_packs_refresh`, as the beat task would).

Queries are drawn with a fixed seed from the generated catalog: titles, titles with one or two typos,
"colour brand noun", SKU-code prefixes and descriptive phrases. "filtered" adds a leaf category (the
queried product's, or for a quarter of the requests another one), in_stock=true and a price range.
The web server is gunicorn as `make run` starts it (config.stack.web_command: gthread, 2 workers x 4
threads: one process per core, and 8 request slots for 8 clients), with DEBUG off. Before serving, the
files of the tables and indexes a search reads are read once into the OS page cache (`prewarm`;
--no-prewarm skips it), then warm-up requests fill PostgreSQL's shared buffers.

Run: .venv/bin/python bench/search_latency.py --out FILE.json [--sizes 100k,1m] [--requests 300] [--smoke]
     .venv/bin/python bench/search_latency.py --sizes 1m --profile 30   # where the time goes, with EXPLAIN
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from _text import misspell

BASE_DIR = Path(__file__).resolve().parent.parent
# The main tenant's products; every product has 4 SKUs; the second tenant has a twentieth as many.
SIZES = {"smoke": 50, "10k": 2_500, "100k": 25_000, "1m": 250_000}
SMOKE = {"sizes": "smoke", "requests": 20, "requests_concurrent": 40, "warmup": 10}
SMOKE_SERVER = {"shared_buffers": "256MB", "maintenance_work_mem": "512MB"}
FILTERS = ("unfiltered", "filtered")
MAIN_TENANT, OTHER_TENANT = "bench-search", "bench-search-other"
KEY_NAME = "bench search latency"
SECRET = "bench-search-latency-not-a-secret"  # the web server runs with DEBUG off, as in production
VAULT_KEY = "YmVuY2gtc2VhcmNoLWxhdGVuY3ktbm90LXNlY3JldCE="  # a Fernet key (DEBUG off requires one); bench only
QUERY_KINDS = (("title", 0.3), ("typo", 0.2), ("attribute", 0.2), ("sku_prefix", 0.1), ("descriptive", 0.2))
PRICE_RANGE = ("10", "500")  # filtered: this, in_stock=true and one leaf category keep ~0.5 % of the products
OFFTOPIC_SHARE = 0.25  # filtered requests whose category is not the queried product's (the hard case for a leg)
BUILD_PARAMS = ("sigma",)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="write the figures as one flat JSON object")
    parser.add_argument("--sizes", default="100k,1m", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--clients", default="1,8", help="concurrent clients per configuration")
    parser.add_argument("--requests", type=int, default=300, help="requests per configuration with one client")
    parser.add_argument("--requests-concurrent", type=int, default=800, help="requests per configuration with more")
    parser.add_argument("--warmup", type=int, default=100, help="requests before measuring (not counted)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (one per core)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--torch-threads", type=int, default=0,
        help="OMP_NUM_THREADS for the web processes (intra-op threads of the query encoder); 0: torch's default",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=7, help="seed of the query sample")
    parser.add_argument("--sigma", type=float, default=0.025, help="std. dev. of the noise added per vector dimension")
    parser.add_argument("--shared-buffers", default="4GB", help="PostgreSQL shared_buffers of the bench servers")
    parser.add_argument("--maintenance-work-mem", default="6GB", help="for the index and HNSW builds")
    parser.add_argument("--rebuild", action="store_true", help="build the data sets anew")
    parser.add_argument("--build-only", action="store_true", help="build (or check) the data sets, do not measure")
    parser.add_argument("--keep-running", action="store_true", help="leave the embedded servers running")
    parser.add_argument(
        "--no-prewarm", dest="prewarm", action="store_false",
        help="measure without first reading the tables and indexes into the OS page cache",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="instead of measuring over HTTP: run N queries per filter setting in-process, time each SQL statement "
        "and the query embedding, and EXPLAIN (ANALYZE, BUFFERS) the slowest statement of each kind",
    )  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="the 50-product size, a few requests: proves it runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update({**SMOKE, **SMOKE_SERVER, "rebuild": True})
    args.client_counts = [int(c) for c in args.clients.split(",")]
    args.size_list = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in args.size_list if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        return run_size(args, args.child)
    import _stack

    _stack.record_start(smoke=args.smoke)
    figures, failed = {}, []
    for size in args.size_list:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            child_out = tmp.name
        _stack.use_folder(BASE_DIR / "var" / "bench" / f"search-{size}")
        env = dict(os.environ)
        argv_child = [a for a in (argv if argv is not None else sys.argv[1:])]
        argv_child = _without_option(argv_child, "--out")
        code = subprocess.call(
            [sys.executable, __file__, *argv_child, "--child", size, "--out", child_out], cwd=BASE_DIR, env=env
        )
        if Path(child_out).stat().st_size:
            figures.update(json.loads(Path(child_out).read_text()))
        Path(child_out).unlink(missing_ok=True)
        if code:
            failed.append(size)
    from _stack import write_report

    if figures:
        write_report(figures, args.out)
    if failed:
        print(f"FAILED: {', '.join(failed)} (see above)", file=sys.stderr)
        return 1
    return 0


def _without_option(argv: list[str], name: str) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            out.append(arg)
    return out


# One size, in its own process ----------------------------------------------------------------------------------


def run_size(args, size: str) -> int:
    os.environ["DJANGO_DEBUG"] = "0"  # no query log: the loader sends statements with 10k-element arrays
    os.environ["DJANGO_SECRET_KEY"] = SECRET
    os.environ.setdefault("PII_VAULT_KEY", VAULT_KEY)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import _stack  # noqa: F401 - puts the project on sys.path

    from config import embedded

    products = SIZES[size]
    params = {"generator": _generator_version(), "products": products, **{p: getattr(args, p) for p in BUILD_PARAMS}}
    marker_path = embedded.data_dir() / "searchbench-marker.json"
    marker = json.loads(marker_path.read_text()) if marker_path.exists() else None
    fresh = args.rebuild or marker is None or marker.get("params") != params
    if fresh:
        _wipe(marker_path)
    _configure_postgres(args)
    from _stack import setup_django

    env = setup_django(stop_at_exit=False)  # stopped below unless --keep-running
    if not fresh and not _data_present(marker):
        fresh = True
        _wipe(marker_path)
        _configure_postgres(args)
        env = setup_django(stop_at_exit=False)  # stopped below unless --keep-running
    figures = {}
    try:
        if fresh:
            print(f"[{size}] building the data set ({products:,} products x 4 SKUs) in {embedded.data_dir()}")
            build = build_data(args, products)
            marker = {"params": params, "build": build}
            marker_path.write_text(json.dumps(marker, indent=2) + "\n")
        else:
            print(f"[{size}] reusing the data set in {embedded.data_dir()} (built {marker['build']['built_at']})")
            problems = verify_against_indexer()  # the indexer may have changed since the build
            figures[f"{size}.matches_indexer"] = not problems
            if problems:
                print(
                    "WARNING: the stored data set no longer matches what the indexer writes; update "
                    "bench/_searchdata.py (GENERATOR_VERSION) or pass --rebuild:\n" + "\n".join(problems),
                    file=sys.stderr,
                )
        figures.update({f"{size}.{k}": v for k, v in marker["build"].items() if k != "built_at"})
        figures.update({f"{size}.{k}": v for k, v in keyword_packs().items()})
        figures.update({f"{size}.{k}": v for k, v in table_sizes().items()})
        code = 0
        if args.profile:
            profile(args, size, products)
        elif not args.build_only:
            code = measure(args, env, size, products, figures)
    finally:
        from _stack import stop_servers
        from django.db import connections

        if args.keep_running:
            connections.close_all()
        else:
            stop_servers()
    Path(args.out).write_text(json.dumps(figures) + "\n")
    return code


def _generator_version() -> int:
    from _searchdata import GENERATOR_VERSION

    return GENERATOR_VERSION


def _wipe(marker_path: Path) -> None:
    """Stop this size's servers and delete its database (only the bench's own folder under var/)."""
    from config import embedded

    embedded.stop()  # also forgets pgserver's handle on the stopped server
    marker_path.unlink(missing_ok=True)
    for folder in (embedded.pg_dir(), embedded.redis_dir()):
        if folder.exists():
            shutil.rmtree(folder)


def _configure_postgres(args) -> None:
    """Start PostgreSQL with the bench's memory settings (a restart when shared_buffers changes)."""
    import psycopg

    from config import embedded

    for _ in range(2):
        uri = embedded.start_postgres()
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET shared_buffers = '{args.shared_buffers}'")
            conn.execute("ALTER SYSTEM SET max_wal_size = '8GB'")  # the bulk load: fewer checkpoints
            conn.execute("SELECT pg_reload_conf()")
            pending = conn.execute("SELECT pending_restart FROM pg_settings WHERE name = 'shared_buffers'").fetchone()
        if not pending[0]:
            return
        embedded.stop_postgres()
    raise SystemExit("PostgreSQL did not take the new shared_buffers after a restart")


def _data_present(marker: dict) -> bool:
    from catalog.models import Product, Tenant

    tenant = Tenant.objects.filter(slug=MAIN_TENANT).first()
    return tenant is not None and Product.objects.filter(tenant=tenant).count() == marker["params"]["products"]


def build_data(args, products: int) -> dict:
    """Load the catalog, chunks, vectors and postings in bulk; rebuild indexes; return timings and checks."""
    import _searchdata as data
    from django.db import connection
    from django.utils import timezone
    from tqdm import tqdm

    from config import embedded
    from knowledge.services.spaces import _create_hnsw_index, active_space

    started, timings = time.monotonic(), {}
    space = active_space()
    specs = [
        data.TenantSpec(0, MAIN_TENANT, "Bench search", products, warehouses=3, trade_list=True),
        data.TenantSpec(1, OTHER_TENANT, "Bench search (other tenant)", products // 20, warehouses=1, trade_list=False),
    ]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("SET session_replication_role = replica")  # no FK triggers per row: the rows are consistent
        raw.execute("SET synchronous_commit = off")
        raw.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        raw.execute("SET max_parallel_maintenance_workers = 1")  # leader + 1 worker: both cores
        restore = data.drop_secondary_indexes(raw)
        loaded = data.Loaded(next_id=data.next_ids(raw))
        now = timezone.now()
        tick = time.monotonic()
        for spec in specs:
            ctx = {**data.create_tenant(spec), "now": now}
            generator = data.Generator(spec.no)
            for start in tqdm(range(0, spec.products, data.LOAD_BATCH), desc=f"{spec.slug}: catalog", unit="batch"):
                drafts = [generator.product(n) for n in range(start, min(spec.products, start + data.LOAD_BATCH))]
                data.load_batch(raw, loaded, ctx["tenant"], drafts, ctx)
        for table in ("catalog_product", "catalog_sku"):  # as after the worker ran: fresh, nothing pending
            raw.execute(f"UPDATE {table} SET indexed_hash = content_hash")
            raw.execute(f"VACUUM FULL {table}")
        timings["load_catalog_s"] = round(time.monotonic() - tick, 1)
        tick = time.monotonic()
        only = np.concatenate(loaded.pool_index) if args.smoke else None
        pool = data.encode_pool(embedded.data_dir() / f"pool-v{data.GENERATOR_VERSION}.npy", tqdm, only)
        timings["pool_encode_s"] = round(time.monotonic() - tick, 1)
        tick = time.monotonic()
        timings["vector_cos_to_pool_mean"] = round(data.load_vectors(raw, loaded, pool, space.pk, args.sigma, tqdm), 4)
        timings["load_vectors_s"] = round(time.monotonic() - tick, 1)
        tick = time.monotonic()
        data.load_postings(np.concatenate(loaded.chunk_ids), tqdm)
        timings["postings_s"] = round(time.monotonic() - tick, 1)
        tick = time.monotonic()
        for ddl in tqdm(restore, desc="indexes"):
            raw.execute(ddl)
        timings["index_build_s"] = round(time.monotonic() - tick, 1)
        print("building the HNSW index ...", flush=True)
        tick = time.monotonic()
        _create_hnsw_index(space)
        timings["hnsw_build_s"] = round(time.monotonic() - tick, 1)
        tick = time.monotonic()
        for table in data.EXPLICIT_ID_TABLES:
            raw.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.execute("SET session_replication_role = DEFAULT")
        raw.execute("VACUUM (ANALYZE)")  # visibility map for index-only scans, statistics for the planner
        timings["vacuum_analyze_s"] = round(time.monotonic() - tick, 1)
    problems = verify_against_indexer()
    if problems:
        raise SystemExit("the generated data set differs from the indexer's output:\n" + "\n".join(problems))
    timings["sigma"] = args.sigma
    timings["pool_vectors"] = int(pool.shape[0])
    timings["build_s"] = round(time.monotonic() - started, 1)
    timings["built_at"] = timezone.now().isoformat(timespec="seconds")
    return timings


def keyword_packs() -> dict:
    """Build the keyword packs that are due, as the beat task does (at 1M: none after the first run)."""
    from knowledge.models import KeywordPack
    from knowledge.services.keyword_packs import keyword_packs_refresh

    built = keyword_packs_refresh()
    pack = KeywordPack.objects.filter(tenant__slug=MAIN_TENANT, locale="en").first()
    if pack is None:  # a catalog below KEYWORD_PACK_MIN_CHUNKS (the smoke size): the leg reads the postings
        print("keyword pack: none (the catalog is below KEYWORD_PACK_MIN_CHUNKS)")
        return {"keyword_pack_postings": 0, "keyword_packs_built_now": len(built)}
    size_mb = round(pack.size_bytes / 2**20, 1)
    print(f"keyword pack: {pack.postings:,} postings, {size_mb:.0f} MB, built in {pack.build_seconds:.1f} s")
    return {
        "keyword_pack_build_s": round(pack.build_seconds, 1),
        "keyword_pack_mb": size_mb,
        "keyword_pack_postings": pack.postings,
        "keyword_packs_built_now": len(built),
    }


def verify_against_indexer() -> list[str]:
    import _searchdata as data

    from catalog.models import Tenant

    tenants = Tenant.objects.filter(slug__in=[MAIN_TENANT, OTHER_TENANT]).values_list("pk", flat=True)
    return data.verify_sample(list(tenants))


def table_sizes() -> dict:
    """Rows (estimated from the statistics) and total size with indexes of the main tables; index sizes."""
    from _searchdata import BULK_TABLES as tables
    from django.db import connection

    from knowledge.services.spaces import active_space, hnsw_index_name

    out = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")
            rows, size = cursor.fetchone()
            out[f"rows.{table}"] = rows
            out[f"table_mb.{table}"] = round(size / 2**20, 1)
        cursor.execute("SELECT pg_total_relation_size('knowledge_packedpostings')")
        out["table_mb.knowledge_packedpostings"] = round(cursor.fetchone()[0] / 2**20, 1)
        for label, index in (
            ("hnsw", hnsw_index_name(active_space().pk)),
            ("posting_term_chunk", "posting_term_chunk"),
        ):
            cursor.execute("SELECT pg_relation_size(%s::regclass)", [index])
            out[f"index_mb.{label}"] = round(cursor.fetchone()[0] / 2**20, 1)
    return out


# Measuring -----------------------------------------------------------------------------------------------------

# Read by index-only scans (their visibility map is all-visible after the load), so never by a search.
PREWARM_SKIP = ("knowledge_posting",)


def prewarm() -> dict:
    """Read the files of the tables and indexes into the OS page cache, as a server that has been answering
    queries for a while holds them. Without it, which pages this VM's memory reclaim (DAMON) has handed back
    to the host since the last run decides the figures more than the code does."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, current_setting('data_directory') || '/' || pg_relation_filepath(c.oid)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't', 'm') AND pg_relation_size(c.oid) > 0"
        )
        files = [Path(path) for name, path in cursor.fetchall() if name not in PREWARM_SKIP]
    start, read = time.perf_counter(), 0
    for base in files:
        for segment in [base, *sorted(base.parent.glob(base.name + ".[0-9]*"))]:
            with segment.open("rb") as handle:
                while chunk := handle.read(1 << 24):
                    read += len(chunk)
    seconds = time.perf_counter() - start
    print(f"prewarm: read {read / 2**30:.1f} GB of tables and indexes in {seconds:.0f} s")
    return {"prewarm_gb": round(read / 2**30, 2), "prewarm_s": round(seconds, 1)}


def planned_queries(products: int, count: int, seed: int, filtered: bool) -> list[tuple[str, str]]:
    """Return (kind, URL) pairs drawn with a fixed seed from the generated catalog of the main tenant."""
    import _searchdata as data

    rng, generator = random.Random(seed), data.Generator(0)
    kinds, weights = zip(*QUERY_KINDS, strict=True)
    out = []
    while len(out) < count:
        p = generator.product(rng.randrange(products))
        if not p.is_active:
            continue
        sku = rng.choice(p.skus)
        kind = rng.choices(kinds, weights)[0]
        if kind == "title":
            q = p.title
        elif kind == "typo":
            q = misspell(p.title, rng)
        elif kind == "attribute":
            q = f"{sku.attributes['colour']} {p.brand} {p.leaf.noun}".lower()
        elif kind == "sku_prefix":
            q = sku.code[: rng.randint(11, 15)]
        else:
            q = f"{rng.choice(data.ADJECTIVES)} {p.leaf.noun.lower()} for {rng.choice(data.USES)}"
        params = {"q": q}
        if filtered:
            leaf = p.leaf if rng.random() >= OFFTOPIC_SHARE else rng.choice(generator.leaves)
            params |= {"category": leaf.slug, "in_stock": "true", "price_min": PRICE_RANGE[0]}
            params["price_max"] = PRICE_RANGE[1]
        out.append((kind, "/api/v1/search/?" + urlencode(params)))
    return out


def fire(port: int, key: str, paths: list[str], clients: int, desc: str) -> tuple[list[tuple], float]:
    """Send the requests from `clients` threads, each on one keep-alive connection; return results and wall time."""
    from tqdm import tqdm

    headers = {"Authorization": f"Api-Key {key}", "X-Forwarded-Proto": "https"}  # as from the TLS proxy
    pending, results, lock = iter(paths), [], threading.Lock()
    bar = tqdm(total=len(paths), desc=desc, unit="req", leave=False)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                path = next(pending, None)
            if path is None:
                break
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                body, status = b"", 0
            elapsed = time.perf_counter() - start
            count = json.loads(body)["count"] if status == 200 else None
            with lock:
                results.append((elapsed, status, count, path))
                bar.update()
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    bar.close()
    return results, wall


def api_key() -> str:
    """A fresh key of the main tenant, whose rate plan is raised above what the bench sends (the limiter
    still counts every request in Redis: its cost is measured, its 429s would not be search latency)."""
    from catalog.models import Tenant
    from governance.models import ApiKey, RatePlan, hash_key

    tenant = Tenant.objects.get(slug=MAIN_TENANT)
    RatePlan.objects.update_or_create(tenant=tenant, defaults={"name": "bench", "requests_per_minute": 1_000_000})
    ApiKey.objects.filter(tenant=tenant, name=KEY_NAME).delete()
    prefix, raw = ApiKey.generate()
    ApiKey.objects.create(tenant=tenant, name=KEY_NAME, prefix=prefix, key_hash=hash_key(raw))
    return raw


def web_server(args, env: dict):
    """Start gunicorn as `make run` does (config.stack.web_command), with the bench's workers and threads."""
    from _stack import wait_until

    from config import embedded, stack

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = stack.web_command(port)
    command[command.index("-w") + 1] = str(args.workers)
    command[command.index("--threads") + 1] = str(args.threads)
    log = open(embedded.data_dir() / "web.log", "ab")  # noqa: SIM115 - closed with the server
    web_env = {"DJANGO_SSL_REDIRECT": "0", **env, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": SECRET}
    web_env["LOG_LEVEL"] = "WARNING"
    if args.torch_threads:
        web_env["OMP_NUM_THREADS"] = str(args.torch_threads)
    child = stack.spawn(command, web_env, log)

    def ready():
        if child.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {embedded.data_dir() / 'web.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(ready, 120, "gunicorn")
    return child, log, port


def summarize(results: list[tuple], wall: float) -> dict:
    from _stack import percentile

    ms = [r[0] * 1000 for r in results]
    ok = [r for r in results if r[1] == 200]
    counts = [r[2] for r in ok]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "qps": round(len(results) / wall, 2),
        "requests": len(results),
        "error_share": round(1 - len(ok) / len(results), 4),
        "mean_results": round(sum(counts) / len(counts), 1) if counts else 0.0,
        "empty_share": round(sum(1 for c in counts if c == 0) / len(counts), 3) if counts else 0.0,
    }


def measure(args, env: dict, size: str, products: int, figures: dict) -> int:
    """Serve with gunicorn, warm up, then fire each configuration; return 1 if any response was not a 200."""
    from config import stack

    key = api_key()
    if args.prewarm:
        figures.update({f"{size}.{k}": v for k, v in prewarm().items()})
    child, log, port = web_server(args, env)
    failed = 0
    try:
        # The first request of each web process loads the embedding model: four rounds of concurrent ones reach
        # every process; then sequential ones warm PostgreSQL's buffers, half of them filtered (the exact
        # scans of a category read its chunks' embeddings, which unfiltered queries never touch). All are
        # drawn with another seed than the measured ones.
        slots = args.workers * args.threads
        warm = [path for _, path in planned_queries(products, 4 * slots + args.warmup // 2, args.seed + 1000, False)]
        filtered = planned_queries(products, args.warmup - args.warmup // 2, args.seed + 1000, True)
        warm += [path for _, path in filtered]
        results, _ = fire(port, key, warm[: 4 * slots], slots, "model load")
        results += fire(port, key, warm[4 * slots :], 1, "warm-up")[0]
        if any(r[1] != 200 for r in results):
            bad = next(r for r in results if r[1] != 200)
            raise SystemExit(f"warm-up request failed with {bad[1]}: {bad[3]}")
        figures[f"{size}.server"] = f"gunicorn gthread -w {args.workers} --threads {args.threads}" + (
            f", OMP_NUM_THREADS={args.torch_threads}" if args.torch_threads else ""
        )
        for name in FILTERS:
            for clients in args.client_counts:
                count = args.requests if clients == 1 else args.requests_concurrent
                planned = planned_queries(products, count, args.seed, filtered=name == "filtered")
                label = f"{size}_{name}_{clients}"
                results, wall = fire(port, key, [p for _, p in planned], clients, label)
                summary = summarize(results, wall)
                figures.update({f"{label}.{k}": v for k, v in summary.items()})
                print(
                    f"{label:<24} p50 {summary['p50_ms']:>7.1f} ms  p95 {summary['p95_ms']:>7.1f} ms  "
                    f"{summary['qps']:>6.1f} req/s  errors {summary['error_share']:.2%}  "
                    f"mean results {summary['mean_results']}",
                    flush=True,
                )
                if summary["error_share"]:
                    failed = 1
                    bad = [r for r in results if r[1] != 200][:5]
                    print(f"NON-200 RESPONSES in {label}: " + "; ".join(f"{r[1]} {r[3]}" for r in bad), file=sys.stderr)
    finally:
        stack.stop([child])
        log.close()
    return failed


# Profiling -----------------------------------------------------------------------------------------------------

TABLE_RE = re.compile(r"\b(?:FROM|JOIN)\s+\"?(\w+)\"?", re.IGNORECASE)


def statement_kind(sql: str) -> str:
    """Name a statement by the tables it reads, in order of appearance (robust to edits of the SQL)."""
    if sql.lstrip().upper().startswith("SET"):
        return "SET"
    tables = list(dict.fromkeys(t for t in TABLE_RE.findall(sql) if t.lower() not in ("lateral", "unnest")))
    return "+".join(tables[:4]) or " ".join(sql.split())[:50]


def profile(args, size: str, products: int) -> None:
    """Run `search()` in-process per filter setting; print time per statement kind; EXPLAIN the slowest ones.

    Each request runs in a transaction, so the vector leg shares the request's connection (and is timed)
    instead of running beside the keyword leg on its own: totals are those of the legs one after another.
    """
    from _stack import percentile
    from django.db import connection, transaction

    from catalog.models import Tenant
    from core.tenancy import Caller
    from knowledge.api.search import SearchApi, search_request
    from knowledge.retrieval import search as search_module
    from knowledge.retrieval import vector as selectors

    caller = Caller.of(Tenant.objects.get(slug=MAIN_TENANT))
    encode, encode_ms = selectors.encode_query, []

    def timed_encode(path, text):
        start = time.perf_counter()
        try:
            return encode(path, text)
        finally:
            encode_ms.append((time.perf_counter() - start) * 1000)

    statements = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((statement_kind(sql), (time.perf_counter() - start) * 1000, sql, params))

    selectors.encode_query = timed_encode
    report = [f"profile of {size}, {args.profile} queries per setting"]
    try:
        for name in FILTERS:
            planned = planned_queries(products, args.profile, args.seed, filtered=name == "filtered")
            totals, kinds, slowest, history = [], {}, {}, []
            for _, path in planned[:3]:  # warm the model and the caches
                search_module.search(search_request(caller, _validated(SearchApi, path)))
            encode_ms.clear()
            with connection.execute_wrapper(wrapper):
                for _, path in planned:
                    statements.clear()
                    start = time.perf_counter()
                    with transaction.atomic():  # the legs share this connection, so every statement is seen
                        search_module.search(search_request(caller, _validated(SearchApi, path)))
                    totals.append((time.perf_counter() - start) * 1000)
                    per_kind = {}
                    for i, (kind, ms, sql, params) in enumerate(statements):
                        per_kind[kind] = per_kind.get(kind, 0.0) + ms
                        if kind != "SET" and ms > slowest.get(kind, (0,))[0]:
                            sets = [s for s in statements[:i] if s[0] == "SET"]
                            slowest[kind] = (ms, sql, params, sets)
                    for kind, ms in per_kind.items():
                        kinds.setdefault(kind, []).append(ms)
                    history.append(len(statements))
            report.append(
                f"\n== {name}: search() p50 {percentile(totals, 50):.1f} ms, p95 {percentile(totals, 95):.1f} ms; "
                f"query embedding p50 {percentile(encode_ms, 50):.1f} ms, p95 {percentile(encode_ms, 95):.1f} ms; "
                f"{sum(history) / len(history):.1f} statements per request"
            )
            for kind, values in sorted(kinds.items(), key=lambda kv: -sum(kv[1])):
                report.append(
                    f"  {kind[:70]:<70} in {len(values):>3} req  p50 {percentile(values, 50):7.1f}  "
                    f"p95 {percentile(values, 95):7.1f}  max {max(values):7.1f} ms"
                )
            for kind, (ms, sql, params, sets) in sorted(slowest.items(), key=lambda kv: -kv[1][0])[:4]:
                with transaction.atomic(), connection.cursor() as cursor:
                    for _, _, set_sql, set_params in sets:
                        cursor.execute(set_sql, set_params)
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    plan = "\n".join("    " + row[0] for row in cursor.fetchall())
                report.append(f"\n-- slowest {kind} ({ms:.1f} ms when measured):\n{plan}")
    finally:
        selectors.encode_query = encode
    text = "\n".join(report)
    print(text)
    from config import embedded

    (embedded.data_dir() / "profile.txt").write_text(text + "\n")
    print(f"\nwrote {embedded.data_dir() / 'profile.txt'}")


def _validated(api, path: str) -> dict:
    from urllib.parse import parse_qsl, urlsplit

    serializer = api.InputSerializer(data=dict(parse_qsl(urlsplit(path).query)))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


if __name__ == "__main__":
    sys.exit(main())
