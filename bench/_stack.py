"""Shared by the benchmarks: start the embedded stack under var/bench, migrate, run a real worker."""

import atexit
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("EMBEDDED_DIR", "var/bench")
os.environ.setdefault("EMBEDDED_REDIS_PORT", "6394")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")


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
    embedded.stop_all()


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
    """Print a table of the figures and write them as one flat JSON object."""
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
