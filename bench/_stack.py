"""Shared by the benchmarks: each owns a data folder (var/bench/<name>), wipes it, migrates, runs a real worker.

`own_folder(name)` points the embedded stack at the benchmark's own folder and deletes what an earlier run
left there, so no benchmark sees another's data and any order gives the same figures. Every report carries
the commit, the machine's cores and its load at the start (`meta.*`); a busy machine is flagged, not hidden.
"""

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
BUSY_CPU_PCT = 25  # other work using more than this share of the machine as the benchmark starts flags it busy
META: dict = {}


def bench_arguments(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: --out FILE.json and --smoke."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="write the figures as one flat JSON object")
    parser.add_argument(
        "--smoke", action="store_true", help="a small factory-built tenant: proves the benchmark runs; no figures"
    )
    return parser


def own_folder(name: str, *, wipe: bool = True, smoke: bool = False) -> Path:
    """Make var/bench/<name> this benchmark's data folder; with `wipe`, stop its servers and delete it first."""
    path = BASE_DIR / "var" / "bench" / name
    use_folder(path)
    if wipe and path.exists():
        from config import embedded

        embedded.stop()
        shutil.rmtree(path)
    record_start(smoke=smoke)
    return path


def use_folder(path: Path) -> None:
    """Point the embedded stack at `path`: its own servers (a port its folder picks), never a configured one."""
    os.environ["EMBEDDED_DIR"] = str(path)
    for name in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_REDIS_PORT"):
        os.environ.pop(name, None)


def _commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def record_start(*, smoke: bool = False) -> dict:
    """Note the commit, the cores, the load average and the CPU in use as the benchmark starts (`meta.*`).

    The load average lags (a benchmark that just ended still weighs on it), so the busy flag comes from
    the share of CPU in use over the two seconds before the start.
    """
    import psutil

    cpus, load, in_use = os.cpu_count() or 1, os.getloadavg()[0], psutil.cpu_percent(interval=2)
    META.update({
        "meta.commit": _commit(),
        "meta.started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "meta.cpus": cpus,
        "meta.load_1m_start": round(load, 2),
        "meta.cpu_in_use_pct": round(in_use, 1),
        "meta.busy": in_use > BUSY_CPU_PCT,
        "meta.smoke": smoke,
    })  # fmt: skip
    if META["meta.busy"]:
        print(
            f"WARNING: the machine is busy ({in_use:.0f} % of {cpus} cores in use at the start): figures will be slower"
        )
    return META


def setup_django(stop_at_exit: bool = True) -> dict:
    """Start the embedded servers, migrate, and set Django up in this process; return the child env.

    The servers are stopped when the bench exits, unless `stop_at_exit` is false (a bench that manages
    them itself) or BENCH_KEEP_RUNNING=1 (to look into the bench's database afterwards).
    """
    from config import stack

    env = stack.stack_env()
    if stop_at_exit and os.environ.get("BENCH_KEEP_RUNNING") != "1":
        atexit.register(stop_servers)
    stack.manage("migrate", "--noinput", "-v", "0", env=env)
    import django

    django.setup()
    return env


def stop_servers() -> None:
    """Close this process's database connections, then stop the bench's PostgreSQL and Redis."""
    from config import embedded

    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()
    embedded.stop()


class Workers:
    """A real Celery worker and beat as child processes; stopped on exit."""

    def __init__(self, env: dict, log_name: str):
        from config import embedded

        self.env, self.children = {**env, "LOG_LEVEL": "INFO"}, []
        self.log = open(embedded.data_dir() / f"{log_name}.log", "ab")  # noqa: SIM115 - closed in stop()

    def start(self, beat: bool = True) -> "Workers":
        from django.core.cache import cache

        from config import stack
        from config.celery import HEARTBEAT_KEY

        for key in cache._cache.get_client().keys(f"*{HEARTBEAT_KEY}*"):
            cache._cache.get_client().delete(key)
        self.children.append(stack.spawn(stack.worker_command("bench"), self.env, self.log))
        if beat:
            self.children.append(stack.spawn(stack.beat_command(), self.env, self.log))
        wait_until(lambda: cache._cache.get_client().keys(f"*{HEARTBEAT_KEY}*"), 120, "worker heartbeat")
        return self

    def stop(self) -> None:
        from config import stack

        stack.stop(self.children)
        self.children = []
        self.log.close()


def pending_count() -> int:
    """Sources of every kind that wait for indexing."""
    from core.indexable import PENDING
    from knowledge.sources import SOURCES

    return sum(spec.model.objects.filter(PENDING).count() for spec in SOURCES.values())


def index_all(env: dict, log_name: str, timeout: float = 1200) -> None:
    """Run a real worker (and the beat's sweep) until no source waits for indexing."""
    workers = Workers(env, log_name).start()
    try:
        wait_until(lambda: pending_count() == 0, timeout, "indexing")
    finally:
        workers.stop()


def wait_until(predicate, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def write_report(figures: dict, out: str | None) -> None:
    """Print a table of the figures and write them, after the run's `meta.*` keys, as one flat JSON object."""
    figures = {**META, **figures}
    width = max(len(k) for k in figures)
    print()
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nwrote {out}")


def run(cmd: list[str], env: dict) -> None:
    subprocess.run(cmd, cwd=BASE_DIR, env=env, check=True)
