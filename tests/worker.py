"""A real Celery worker (with embedded beat) run as a child process against the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache

from config.celery import HEARTBEAT_KEY, app

BASE_DIR = Path(settings.BASE_DIR)
START_TIMEOUT_S = 90
PAUSE_TIMEOUT_S = 120  # the solo pool answers a control command only once its running task is done
QUEUE = "celery"


def wait_until(predicate, timeout: float = 30.0, every: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")


def test_database_url() -> str:
    """Return DATABASE_URL with its database swapped for the test database pytest-django created."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


class Worker:
    """Start, stop and SIGKILL one worker process; each start waits for its heartbeat."""

    def __init__(self, name: str = "test-worker"):
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.paused = False
        self.log_path = BASE_DIR / os.environ["EMBEDDED_DIR"] / f"{name}.log"

    @property
    def running(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    def start(self) -> "Worker":
        if self.running:
            if self.paused:
                self._control("add_consumer", 10)
                self.paused = False
            return self
        self.paused = False
        cache.delete(HEARTBEAT_KEY + self.hostname)
        env = {**os.environ, "DATABASE_URL": test_database_url(), "DATABASE_CONN_MAX_AGE": "0"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        worker = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-n", self.hostname,
            "--without-gossip", "--without-mingle", "-l", "INFO",
        ]  # fmt: skip
        beat = [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(self.log_path.with_suffix(".beat"))]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(worker, cwd=BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True)
            self.beat = subprocess.Popen(beat, cwd=BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True)
        wait_until(self._alive, START_TIMEOUT_S, 0.2, f"worker heartbeat (log: {self.log_path})")
        return self

    @property
    def hostname(self) -> str:
        return f"{self.name}@localhost"

    def _alive(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"worker exited with {self.proc.returncode}; see {self.log_path}")
        return bool(cache.get(HEARTBEAT_KEY + self.hostname))

    def pause(self) -> None:
        """Stop taking tasks; return once no task runs (a paused worker's tasks wait in the queue)."""
        if self.running and not self.paused:
            self._control("cancel_consumer", PAUSE_TIMEOUT_S)
            self.paused = True

    def _control(self, command: str, timeout: float) -> None:
        send = getattr(app.control, command)
        replies = send(QUEUE, destination=[self.hostname], reply=True, timeout=timeout, limit=1)
        if not replies:
            raise AssertionError(f"worker did not answer {command} within {timeout:.0f} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the worker and its beat: no shutdown, no acknowledgements."""
        for proc in (self.proc, self.beat):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        cache.delete(HEARTBEAT_KEY + self.hostname)

    def stop(self) -> None:
        for proc in (self.beat, self.proc):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        cache.delete(HEARTBEAT_KEY + self.hostname)


def purge_queue() -> int:
    """Drop every queued task (what a lost broker message looks like to the sweep)."""
    return app.control.purge()


DRAIN_TIMEOUT_S = 30


def queued() -> int:
    """Messages waiting in the broker's task queue (the broker's Redis database, not the cache's)."""
    with app.connection_for_read() as connection:
        return connection.default_channel.client.llen(QUEUE)


def drain_queue() -> None:
    """Wait (bounded) until the broker queue is empty and no row waits for indexing."""
    from core.indexable import PENDING
    from knowledge.sources import SOURCES

    def idle() -> bool:
        waiting = any(spec.model.objects.filter(PENDING, index_error="").exists() for spec in SOURCES.values())
        return queued() == 0 and not waiting

    try:
        wait_until(idle, DRAIN_TIMEOUT_S, 0.1, "an idle worker")
    except AssertionError:
        pass  # a test that leaves rows pending on purpose: the flush may then wait on the worker's lock
    time.sleep(0.2)  # the task that emptied the queue commits
