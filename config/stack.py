"""`make run`: the embedded servers, migrations, demo data, a Celery worker and beat, and the web server.

Ctrl-C stops the children, then the embedded servers; the data stays under var/ for the next start.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 15  # a worker finishing its current batch


def manage(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=check)


def spawn(args: list[str], env: dict, log=None) -> subprocess.Popen:
    """Start a child in its own process group, so a stop reaches its own children too."""
    return subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True)


def worker_command(name: str = "worker", pool: str = "solo") -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-P", pool, "-n", f"{name}@%h",
        "--without-gossip", "--without-mingle", "-l", "INFO",
    ]  # fmt: skip


def beat_command() -> list[str]:
    schedule = embedded.data_dir() / "celerybeat-schedule"
    return [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(schedule), "-l", "INFO"]


def web_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-k", "gthread",
        "-w", "2", "--threads", "4", "--timeout", "120", "--access-logfile", "-",
    ]  # fmt: skip


def stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the stack the way Ctrl-C does


def stack_env() -> dict:
    embedded.ensure_started()
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    options = parser.parse_args(argv)
    env = stack_env()
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    children = [spawn(worker_command(), env), spawn(beat_command(), env), spawn(web_command(options.port), env)]
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started from a shell that ignores SIGINT
    try:
        if not options.no_seed:
            manage("seed_demo", env=env, check=False)  # once: it exits at once when the demo exists
        print(
            f"\nServing on http://127.0.0.1:{options.port}/ (admin at /admin/, API docs at /api/docs/). Ctrl-C stops."
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a child process exited; stopping the stack", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(children)
        embedded.stop()
        print("stopped; data kept under", embedded.data_dir())


if __name__ == "__main__":
    sys.exit(main())
