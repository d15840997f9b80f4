"""Answer latency: end-to-end POST /ai/v1/chat on the demo catalog, extractive provider, real HTTP to gunicorn.

Each question about one product names it (`product`), as a storefront's product page does; the others
(policies, the catalog) name none. Configurations: 1 and 8 concurrent clients, each cold (distinct questions,
the answer cache emptied first) and cached (the same questions again), in --rounds rounds (default 3: a p95
over one round of 65 requests moves by a quarter from run to run). For each: client-side p50/p95/p99 and
throughput, and the mean time per pipeline step as the server recorded it (AnswerRecord.latency_ms). Then, for
the evidence, the retrieval legs timed one by one in this process on the same questions (one torch thread, as
a web process uses). With a trained relevance model (--relevance-model PATH, else the newest folder with a
meta.json under RELEVANCE_MODELS_DIR), it is registered and activated in the benchmark's database and the cold
configurations run again as `cold_1_reranked` and `cold_8_reranked`; without one they are left out
(`reranked` false).
Own data folder var/bench/answer, wiped at the start; the demo is seeded and indexed by a real worker.
--smoke: a small factory-built tenant and questions made from it instead of the demo.
Run: .venv/bin/python bench/answer_latency.py --out FILE.json [--smoke]
"""

import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("EMBEDDING_THREADS", "1")  # this process times retrieval legs as a web process runs them
for _name in ("LLM_BASE_URL", "LLM_MODEL", "LOCAL_LM_PATH", "ASSISTANT_ROUTES", "ASSISTANT_DEFAULT_PROVIDER"):
    os.environ.pop(_name, None)  # the extractive provider serves every request

from _products import with_products  # noqa: E402
from _stack import (  # noqa: E402
    bench_arguments,
    index_all,
    own_folder,
    percentile,
    run,
    setup_django,
    wait_until,
    write_report,
)

KEYS = {
    "acme": "ck_demo0001_acme-retail-demo-key",
    "education": "ck_demo0002_acme-retail-demo-key",
    "trade": "ck_demo0003_boltwerk-industrial-demo-key",
    "facilities": "ck_demo0004_boltwerk-industrial-demo-key",
}
# What shoppers and trade buyers ask the demo: specifications, compatibility, warranty, returns, shipping,
# prices (retail and B2B lists), stock, German, and questions the catalog cannot answer (they abstain).
QUESTIONS = [
    ("acme", "What is the battery life of the Sonora Studio 410 Max headphones?"),
    ("acme", "How heavy is the Orbi Slate 120 Pro tablet?"),
    ("acme", "What refresh rate does the Lumora Arc 520 monitor have?"),
    ("acme", "Which panel does the Vistaro Cinema 580 Lite TV use?"),
    ("acme", "What is the PEGI rating of Kingdoms of Ash Deluxe?"),
    ("acme", "Does the Orbi Edge 480 Plus smartphone support 5G?"),
    ("acme", "What is the water tank capacity of the Brühwerk Barista 610 Max?"),
    ("acme", "What CPU does the Lumora Zenith 320 Pro laptop have?"),
    ("acme", "What is the output power of the Brennan Audio Rover 560 speaker?"),
    ("acme", "What is the suction power of the Nordhaus Aero 610 Lite vacuum?"),
    ("acme", "How much storage does the Nightjar Arcadia 280 console have?"),
    ("acme", "What steel is the Stahlberg Classic chef's knife made of?"),
    ("trade", "What torque does the Boltwerk Pro DX 200 Max drill have?"),
    ("trade", "What is the cut depth of the Kaltwerk HKS 260 Max circular saw?"),
    ("trade", "Is the Kaltwerk Multi Lubricant Spray flammable?"),
    ("facilities", "What is the SNR of the Safeguard Silence 500 hearing protection?"),
    ("facilities", "What is the load capacity of the Ferrox Heavy anchor?"),
    ("trade", "Which battery fits the Boltwerk Pro DX 200 Max?"),
    ("acme", "How many HDMI 2.1 ports does the Vistaro Cinema 580 Lite TV have?"),
    ("acme", "Does the Sonora Studio 410 Max work with my phone over Bluetooth?"),
    ("acme", "How long is the warranty on the Sonora Studio 410 Max headphones?"),
    ("trade", "What is the warranty on the Boltwerk Pro DX 200 Max?"),
    ("acme", "What does the warranty on the Lumora Zenith 320 Pro laptop cover?"),
    ("acme", "How many days do I have to return an item in the EU?"),
    ("acme", "How long does a refund take in the UK?"),
    ("acme", "Can I return in-ear headphones after opening them?"),
    ("trade", "What is the restocking fee for trade returns in the EU?"),
    ("acme", "Who pays for return shipping?"),
    ("acme", "What does standard shipping cost in the EU?"),
    ("acme", "What does express shipping cost in the EU?"),
    ("acme", "From what order value is shipping free in the UK?"),
    ("trade", "From what order value is shipping free for trade customers in the UK?"),
    ("acme", "How long does delivery take in Germany?"),
    ("acme", "How much does the Lumora AirBook 550 Lite laptop cost?"),
    ("education", "How much does the Lumora AirBook 550 Lite laptop cost?"),
    ("trade", "How much does the Boltwerk Pro DX 200 Max drill cost?"),
    ("facilities", "How much does the Safeguard Silence 500 hearing protection cost?"),
    ("acme", "How much is the Orbi Slate 120 Pro tablet?"),
    ("education", "What does the Sonora Studio 410 Max cost with the education discount?"),
    ("acme", "What is the cheapest Vistaro TV?"),
    ("acme", "Is the ACME-HPH0001-SAN in stock?"),
    ("trade", "Is the BWK-SAW0001 in stock?"),
    ("acme", "Is the Brühwerk Barista 610 Max available?"),
    ("trade", "Do you have the Kaltwerk HKS 260 Max circular saw in stock?"),
    ("acme", "Wie lange habe ich Zeit, einen Artikel zurückzugeben?"),
    ("acme", "Wie lange ist die Garantie in Deutschland?"),
    ("acme", "Welche Artikel sind von der Rückgabe ausgeschlossen?"),
    ("trade", "Welches Drehmoment hat der Boltwerk Pro DX 200 Max?"),
    ("acme", "Wie schwer ist das Orbi Slate 120 Pro Tablet?"),
    ("acme", "Was kostet der Versand in Deutschland?"),
    ("acme", "Do you sell hoverboards?"),
    ("acme", "What is the return policy in Australia?"),
    ("acme", "How much does the Lumora AirBook 9000 cost?"),
    ("acme", "Do you ship to Mars?"),
    ("acme", "What is the battery life of the Sonora Studio 999 headphones?"),
    ("acme", "Is the ACME-ZZZ9999 in stock?"),
    ("acme", "Can I pay with Bitcoin?"),
    ("acme", "Who won the football world cup in 2014?"),
    ("acme", "What is the return window in Canada?"),
    ("education", "How much does the Brühwerk Barista 610 Max cost?"),
    ("education", "What is the water tank capacity of the Brühwerk Barista 610 Max?"),
    ("facilities", "What is the cut depth of the Kaltwerk HKS 260 Max circular saw?"),
    ("trade", "What is the warranty in Japan?"),
    ("trade", "Do you sell Sonora Studio headphones?"),
    ("trade", "What is the price of ACME-HPH0001-SAN?"),
]
WARM_UP = [
    ("acme", "What colours does the Sonora Studio 410 Max come in?"),
    ("trade", "What voltage does the Boltwerk Pro DX 200 Max use?"),
    ("acme", "Does the Lumora Arc 520 monitor have USB-C?"),
    ("acme", "What is the screen size of the Orbi Slate 120 Pro?"),
]  # loads the model and warms connections in every web process; never measured
STEPS = ("guardrail", "retrieve", "rerank", "prompt", "cache", "synthesize", "verify", "record", "total")
WEB_WORKERS_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive HTTP connection, as a storefront backend holds one."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def ask(self, key: str, question: str, product: str | None = None) -> tuple[float, dict]:
        body = json.dumps({"question": question} | ({"product": product} if product else {}))
        headers = {"Authorization": f"Api-Key {KEYS[key]}", "Content-Type": "application/json"}
        began = time.perf_counter()
        try:
            self.conn.request("POST", "/ai/v1/chat", body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the server closed a kept-alive connection: reconnect once
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            began = time.perf_counter()
            self.conn.request("POST", "/ai/v1/chat", body, headers)
            response = self.conn.getresponse()
            data = response.read()
        elapsed = time.perf_counter() - began
        if response.status != 200:
            raise SystemExit(f"POST /ai/v1/chat {question!r}: HTTP {response.status}: {data[:300]!r}")
        return elapsed, json.loads(data)


def run_config(port: int, questions: list[tuple[str, str, str | None]], clients: int) -> dict:
    """Send every question once, over `clients` concurrent connections; return latencies and bodies."""
    local = threading.local()

    def one(item):
        if not hasattr(local, "client"):
            local.client = Client(port)
        return local.client.ask(*item)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, questions))
    wall = time.perf_counter() - began
    return {"latencies": [r[0] for r in results], "bodies": [r[1] for r in results], "wall_s": wall}


def merge_round(results: dict, name: str, result: dict) -> None:
    """Add one round's latencies, bodies and wall time to the configuration's totals."""
    total = results.setdefault(name, {"latencies": [], "bodies": [], "wall_s": 0.0})
    total["latencies"] += result["latencies"]
    total["bodies"] += result["bodies"]
    total["wall_s"] += result["wall_s"]


def flush_answer_cache() -> int:
    from django.core.cache import cache

    client = cache._cache.get_client()
    keys = list(client.scan_iter(match="*asst:v1:answer:*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


def step_means(bodies: list[dict]) -> dict[str, float]:
    """Mean milliseconds per pipeline step, from the answer records the server wrote."""
    from governance.models import AnswerRecord

    records = AnswerRecord.objects.filter(pk__in=[b["answer_id"] for b in bodies]).values_list("latency_ms", flat=True)
    means = {}
    for step in STEPS:
        values = [timings[step] for timings in records if step in timings]
        if values:
            means[f"steps.{step}_ms"] = round(statistics.fmean(values), 1)
    return means


def figures_of(name: str, result: dict) -> dict:
    ms = [v * 1000 for v in result["latencies"]]
    bodies = result["bodies"]
    out = {
        f"{name}.requests": len(ms),
        f"{name}.p50_ms": round(percentile(ms, 50), 1),
        f"{name}.p95_ms": round(percentile(ms, 95), 1),
        f"{name}.p99_ms": round(percentile(ms, 99), 1),
        f"{name}.max_ms": round(max(ms), 1),
        f"{name}.qps": round(len(ms) / result["wall_s"], 2),
        f"{name}.cache_hits": sum(1 for b in bodies if b["cache_hit"]),
    }
    out |= {f"{name}.{key}": value for key, value in step_means(bodies).items()}
    return out


def profile_retrieval(questions: list[tuple[str, str, str | None]]) -> dict:
    """Time each part of `search()` on the same questions, in this process, sequentially (the evidence)."""
    from assistant.pipeline.guardrails import InputGuardrail
    from assistant.pipeline.types import Ask
    from core.tenancy import Caller
    from governance.models import ApiKey, hash_key
    from knowledge import embedding
    from knowledge.query_encoder import encode_query
    from knowledge.retrieval import search as search_module
    from knowledge.retrieval.fuzzy import chunk_search_fuzzy_ids
    from knowledge.retrieval.keyword import chunk_search_keyword_ids
    from knowledge.retrieval.request import SearchRequest
    from knowledge.retrieval.search import candidate_rows, search
    from knowledge.retrieval.vector import chunk_search_vector_by
    from knowledge.retrieval.visibility import visibility_for
    from knowledge.services.spaces import active_space

    space = active_space()
    path = embedding.model_path_for(space)
    encode_query(path, "warm up")
    callers = {}
    for key in {key for key, *_ in questions}:
        api_key = ApiKey.objects.select_related("tenant", "customer_group").get(key_hash=hash_key(KEYS[key]))
        callers[key] = Caller.of(api_key.tenant, api_key.customer_group, api_key)
    timings: dict[str, list[float]] = {}

    def timed(name, call, *args, **kwargs):
        began = time.perf_counter()
        value = call(*args, **kwargs)
        timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)
        return value

    for key, question, _ in questions:
        caller = callers[key]
        query = InputGuardrail().run(Ask("chat", question)).question
        params = {"q": query, "page": 1, "page_size": 8}
        visibility = timed("visibility", visibility_for, caller)
        vector = timed("encode", encode_query, path, query[: search_module.QUERY_EMBED_CHARS])  # as search() does
        legs = {"tenant_id": caller.tenant_id, "visibility": visibility}
        timed("vector_leg", chunk_search_vector_by, vector=vector, k=search_module.VECTOR_K, locale=None,
              space=space, **legs)  # fmt: skip
        keyword = timed("keyword_leg", chunk_search_keyword_ids, query=query, k=search_module.KEYWORD_K, **legs)
        timed("fuzzy_leg", chunk_search_fuzzy_ids, query=query, k=search_module.FUZZY_K, **legs)
        timed("candidate_rows", candidate_rows, visibility, [cid for cid, _ in keyword])
        timed("search_total", search, SearchRequest(caller=caller, query=query, size=params["page_size"]))
    out = {}
    for name, values in timings.items():
        out[f"retrieval.{name}.mean_ms"] = round(statistics.fmean(values), 1)
        out[f"retrieval.{name}.p95_ms"] = round(percentile(values, 95), 1)
    return out


def ensure_catalog(env: dict, smoke: bool) -> tuple[list, list]:
    """Seed the demo (--smoke: the smoke tenant), let a real worker index it; return (questions, warm-up), each
    with the product it names."""
    questions, warm_up = QUESTIONS, WARM_UP
    if smoke:
        from _smoke import smoke_catalog, smoke_questions

        catalog = smoke_catalog()
        KEYS["smoke"] = catalog.raw_key
        asked = smoke_questions(catalog)
        questions, warm_up = [("smoke", q) for q in asked], [("smoke", q) for q in asked[:2]]
    else:
        run([sys.executable, "manage.py", "seed_demo"], env)
        unthrottle_demo()
    index_all(env, "bench-answer")
    return with_products(questions, KEYS), with_products(warm_up, KEYS)


def unthrottle_demo() -> None:
    """Give the demo tenants a plan above what the benchmark sends (the default 600 requests a minute is a
    storefront's plan; 8 clients send more), so every request measures the answer path, not a 429."""
    from catalog.models import Tenant
    from governance.models import RatePlan

    for tenant in Tenant.objects.all():
        RatePlan.objects.update_or_create(
            tenant=tenant, defaults={"name": "bench", "requests_per_minute": 1_000_000, "answers_per_day": 1_000_000}
        )


def trained_model(given: str | None) -> Path | None:
    """The relevance model folder to activate: --relevance-model, else the newest with a meta.json, else None."""
    from django.conf import settings

    if given:
        if not (Path(given) / "meta.json").is_file():
            raise SystemExit(f"--relevance-model {given}: no meta.json there (a folder train_reranker wrote)")
        return Path(given)
    folders = [meta.parent for meta in Path(settings.RELEVANCE_MODELS_DIR).glob("*/meta.json")]
    return max(folders, key=lambda folder: (folder / "meta.json").stat().st_mtime, default=None)


def activate_model(env: dict, folder: Path) -> str:
    """Register and activate the folder in this benchmark's database; wait until web processes read it."""
    from knowledge.models import RelevanceModel
    from knowledge.relevance.scoring import ACTIVE_TTL_S

    run([sys.executable, "manage.py", "relevance_model", "register", str(folder.resolve()), "--activate"], env)
    time.sleep(ACTIVE_TTL_S + 1)  # each web process reads the active model again after this long
    return RelevanceModel.objects.get(is_active=True).label


def run_reranked(port: int, questions: list, warm_up: list, args, env: dict, results: dict) -> str | None:
    """The cold configurations again with the relevance model active; its label, or None without a model."""
    from django.conf import settings

    folder = trained_model(args.relevance_model)
    if folder is None:
        print(f"no trained relevance model under {settings.RELEVANCE_MODELS_DIR}: reranked configurations left out")
        return None
    label = activate_model(env, folder)
    run_config(port, warm_up * 4, args.clients)  # every web process loads the model's session
    for clients in (1, args.clients):
        for _ in range(args.rounds):
            flush_answer_cache()
            merge_round(results, f"cold_{clients}_reranked", run_config(port, questions, clients))
    return label


def start_web(env: dict, port: int):
    from config import embedded, stack

    log = open(embedded.data_dir() / "bench-answer-web.log", "ab")  # noqa: SIM115 - closed by stop_web
    web = stack.spawn(stack.web_command(port), {**env, "LOG_LEVEL": "WARNING"}, log)

    def up():
        if web.poll() is not None:
            raise SystemExit(f"gunicorn exited with {web.returncode}; see {log.name}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return True
        except OSError:
            return False

    wait_until(up, WEB_WORKERS_TIMEOUT_S, "gunicorn")
    return web, log


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the concurrent configs")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of every configuration (a p95 over 65 requests is noisy)"
    )
    parser.add_argument("--relevance-model", help="a trained relevance model folder (default: the newest one)")
    args = parser.parse_args()
    args.rounds = 1 if args.smoke else args.rounds
    own_folder("answer", smoke=args.smoke)
    env = setup_django()
    env = {k: v for k, v in env.items() if k != "EMBEDDING_THREADS"}  # config/wsgi.py sets it for web processes
    questions, warm_up = ensure_catalog(env, args.smoke)
    from config import stack

    port = free_port()
    web, log = start_web(env, port)
    figures: dict = {"questions": len(questions), "cpus": os.cpu_count(), "web": "gunicorn gthread 2x4"}
    figures["load_1m_before"] = round(os.getloadavg()[0], 2)
    try:
        flush_answer_cache()
        run_config(port, warm_up * 4, args.clients)  # every web process loads its model and opens connections
        results = {}
        for clients in (1, args.clients):
            for _ in range(args.rounds):  # each round: the cache emptied, then every question cold, then cached
                flush_answer_cache()
                merge_round(results, f"cold_{clients}", run_config(port, questions, clients))
                merge_round(results, f"cached_{clients}", run_config(port, questions, clients))
        figures["relevance_model"] = run_reranked(port, questions, warm_up, args, env, results) or "none"
        figures["reranked"] = figures["relevance_model"] != "none"
        figures["load_1m_after_http"] = round(os.getloadavg()[0], 2)
    finally:
        stack.stop([web])
        log.close()
    for name in ("cold_1", "cached_1", f"cold_{args.clients}", f"cached_{args.clients}"):
        figures |= figures_of(name, results[name])
    for name in ("cold_1_reranked", f"cold_{args.clients}_reranked"):
        if name in results:
            figures |= figures_of(name, results[name])
    figures["with_product"] = sum(1 for _, _, product in questions if product)
    verdicts: dict[str, int] = {}
    for body in results["cold_1"]["bodies"][: len(questions)]:  # one round
        verdicts[body["verdict"]] = verdicts.get(body["verdict"], 0) + 1
    figures |= {f"cold_1.verdict.{v}": n for v, n in sorted(verdicts.items())}
    figures |= profile_retrieval(questions)
    figures["load_1m_after"] = round(os.getloadavg()[0], 2)
    write_report(figures, args.out)


if __name__ == "__main__":
    main()
