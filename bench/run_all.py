"""Run every benchmark in sequence (`make bench`), or each in its smoke mode (`make bench-smoke`, run by CI).

Each benchmark runs as its own process with its own data folder, and writes one JSON per benchmark into
--out-dir (commit, cores and load average included). A benchmark that fails, or whose report lacks a key
it promises, fails the whole run: values are not judged and nothing is timed here. Before each full
benchmark the run waits (up to --settle seconds) for the machine's load to fall, so one benchmark's tail
does not slow the next; the load and CPU in use at each start are in its report either way.
The 1M search build (about 15 minutes) runs only with BENCH_1M=1.
Run: .venv/bin/python bench/run_all.py [--smoke] [--reverse] [--out-dir var/bench-results]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
QUIET_CPU_PCT = 25
QUIET_DIRTY_MB = 64

# Every key a benchmark promises (in either mode); the search sizes' keys are per configuration.
SEARCH_CONFIG_KEYS = ("p50_ms", "p95_ms", "p99_ms", "qps", "error_share")
REQUIRED = {
    "freshness": ("edits", "p50_ms", "p95_ms", "p99_ms", "max_ms", "lost"),
    "answer_latency": tuple(
        f"{config}.{key}"
        for config in ("cold_1", "cached_1", "cold_8", "cached_8")
        for key in ("p50_ms", "p95_ms", "p99_ms", "qps", "cache_hits")
    )
    + ("retrieval.search_total.p95_ms", "reranked"),
    "index_throughput": (
        "chunks",
        "encoded",
        "elapsed_s",
        "chunks_per_s",
        "encoded_per_s",
        "raw_per_s",
        "ratio_to_raw",
    ),
    "import_throughput": (
        "rows",
        "rows_per_s",
        "chunks",
        "chunks_per_s",
        "raw_encode_per_s",
        "ratio_to_raw",
        "all_searchable_s",
        "rerun.s",
        "rerun.embedded",
        "price_feed.embedded",
        "price_feed.visible_p95_ms",
        "events.embedded",
        "events.visible_p95_ms",
    ),
    "typo_tolerance": ("queries", "fuzzy.top5", "keyword.top5", "vector.top5", "fused.top5"),
    "search_latency": (),  # checked per size below
}
# Keys promised only when the report says an optional part ran: benchmark -> ((flag key, keys), ...). The
# answer latency's re-ranked configurations need a trained relevance model, which a fresh clone lacks.
CONDITIONAL = {
    "answer_latency": (("reranked", ("cold_1_reranked.p95_ms", "cold_8_reranked.p95_ms", "relevance_model")),),
}
META_KEYS = ("meta.commit", "meta.cpus", "meta.load_1m_start", "meta.cpu_in_use_pct", "meta.busy", "meta.smoke")


def search_sizes(smoke: bool) -> list[str]:
    if smoke:
        return ["smoke"]
    return ["100k", "1m"] if os.environ.get("BENCH_1M") == "1" else ["100k"]


def required_keys(name: str, smoke: bool, report: dict | None = None) -> list[str]:
    """The keys `name` promises; with its `report`, also those of the optional parts the report says ran."""
    keys = [*META_KEYS, *REQUIRED[name]]
    for flag, promised in CONDITIONAL.get(name, ()):
        if (report or {}).get(flag):
            keys += promised
    if name == "search_latency":
        keys += [
            f"{size}_{kind}_{clients}.{key}"
            for size in search_sizes(smoke)
            for kind in ("unfiltered", "filtered")
            for clients in (1, 8)
            for key in SEARCH_CONFIG_KEYS
        ]
    return keys


def missing_keys(report: dict, name: str, smoke: bool) -> list[str]:
    return [key for key in required_keys(name, smoke, report) if key not in report]


def command(name: str, smoke: bool, out: Path) -> list[str]:
    args = [sys.executable, str(BENCH_DIR / f"{name}.py"), "--out", str(out)]
    if smoke:
        args.append("--smoke")
    elif name == "search_latency":
        args += ["--sizes", ",".join(search_sizes(smoke))]
    return args


def dirty_mb() -> float:
    """Data written but not yet on disk (the kernel's Dirty and Writeback), in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return sum(int(fields.get(name, "0 kB").split()[0]) for name in ("Dirty", "Writeback")) / 1024


def settle(seconds: float) -> None:
    """Flush what the previous benchmark wrote to disk, then wait until less than a quarter of the CPU is in
    use (over 3 s) and little data waits for writeback, at most `seconds`: its tail must not slow the next."""
    import psutil

    deadline = time.monotonic() + seconds
    os.sync()
    while time.monotonic() < deadline:
        if psutil.cpu_percent(interval=3) <= QUIET_CPU_PCT and dirty_mb() < QUIET_DIRTY_MB:
            return


def run_one(name: str, args) -> tuple[bool, dict, str]:
    out = Path(args.out_dir) / f"{name}.json"
    out.unlink(missing_ok=True)
    if not args.smoke:
        settle(args.settle)
    print(f"\n=== {name}{' (smoke)' if args.smoke else ''} ===", flush=True)
    began = time.monotonic()
    code = subprocess.call(command(name, args.smoke, out), cwd=BASE_DIR)
    seconds = time.monotonic() - began
    report = json.loads(out.read_text()) if out.exists() else {}
    problem = f"exit status {code}" if code else ""
    missing = missing_keys(report, name, args.smoke)
    if missing:
        problem = (problem + "; " if problem else "") + f"missing keys: {', '.join(missing)}"
    return not problem, report, f"{seconds:.0f} s" + (f"  FAILED: {problem}" if problem else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="each benchmark's smoke mode (under a minute each)")
    parser.add_argument("--reverse", action="store_true", help="run them in reverse order")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--out-dir", default=str(BASE_DIR / "var" / "bench-results"))
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait at most for a quiet machine")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(REQUIRED)
    unknown = sorted(set(names) - set(REQUIRED))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(REQUIRED)}")
    if args.reverse:
        names.reverse()
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    results = {name: run_one(name, args) for name in names}
    print("\nbenchmark          result")
    for name, (_, report, line) in results.items():
        flag = "  (busy machine)" if report.get("meta.busy") else ""
        print(f"{name:<18} {line}{flag}")
    print(f"reports in {args.out_dir}")
    return 0 if all(ok for ok, _, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
