"""Embedded servers know their own data folder: a port kept per folder, foreign servers refused, none left behind."""

import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config import embedded

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def folder(monkeypatch):
    """Point the embedded helpers at a new data folder; stop whatever it started and delete it afterwards."""

    def use(name: str) -> Path:
        path = BASE_DIR / "var" / "test-embedded" / f"{name}-{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv("EMBEDDED_DIR", str(path))
        made.append(path)
        return path

    made: list[Path] = []
    monkeypatch.delenv("EMBEDDED_REDIS_PORT", raising=False)
    yield use
    for path in made:
        monkeypatch.setenv("EMBEDDED_DIR", str(path))
        embedded.stop_redis()
        embedded.stop_postgres()
        shutil.rmtree(path, ignore_errors=True)


def test_a_new_folder_picks_a_free_port_and_keeps_it(folder):
    path = folder("a")

    port = embedded.redis_port()

    assert (path / "redis" / "port").read_text() == str(port)
    assert embedded.redis_port() == port
    with socket.socket() as sock:  # the port was free when chosen
        sock.bind(("127.0.0.1", port))


def test_a_second_folder_meeting_a_server_of_the_first_is_refused_with_the_message(folder):
    first = folder("first")
    embedded.start_redis()
    port = embedded.redis_port()
    second = folder("second")
    (second / "redis").mkdir(parents=True)
    (second / "redis" / "port").write_text(str(port))  # e.g. a copied folder, or a fixed port set twice

    with pytest.raises(embedded.EmbeddedServerConflict) as refused:
        embedded.start_redis()

    message = str(refused.value)
    assert str((first / "redis").resolve()) in message and str(second / "redis") in message
    assert f"redis-cli -p {port} shutdown" in message
    embedded.stop_redis()  # the second folder's stop leaves the first folder's server alone
    os.environ["EMBEDDED_DIR"] = str(first)
    assert embedded.redis_running()


def test_a_port_taken_by_another_program_is_refused(folder):
    path = folder("taken")
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        (path / "redis").mkdir(parents=True)
        (path / "redis" / "port").write_text(str(other.getsockname()[1]))

        with pytest.raises(embedded.EmbeddedServerConflict, match="taken by another program"):
            embedded.start_redis()


def test_a_postmaster_pid_naming_another_folders_server_is_refused(folder):
    """A folder copied while its PostgreSQL ran carries a pid file that names the original's server."""
    running = embedded.pg_dir()  # the test run's own server
    path = folder("copied")
    (path / "pg").mkdir(parents=True)
    shutil.copy(running / "postmaster.pid", path / "pg" / "postmaster.pid")

    with pytest.raises(embedded.EmbeddedServerConflict) as refused:
        embedded.start_postgres()

    assert str(running.resolve()) in str(refused.value) and str(path / "pg") in str(refused.value)
    embedded.stop_postgres()  # refuses to stop a server of another folder
    assert (running / "postmaster.pid").exists()


def test_a_test_run_stops_the_servers_it_started(tmp_path):
    """A whole pytest run on its own data folder: the servers it starts are gone when it ends."""
    path = BASE_DIR / "var" / "test-embedded" / f"run-{uuid.uuid4().hex[:8]}"
    test_file = tmp_path / "test_nothing.py"
    test_file.write_text("def test_nothing():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_REDIS_PORT")}
    env["EMBEDDED_DIR"] = str(path)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", str(test_file), "-c", str(BASE_DIR / "pyproject.toml"),
             "-p", "no:cacheprovider"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip

        assert result.returncode == 0, result.stdout + result.stderr
        assert (path / "redis" / "port").exists() and (path / "pg" / "PG_VERSION").exists()  # it did start both
        assert embedded.leftovers(path) == []
    finally:
        for line in embedded.leftovers(path):  # never leave a server behind, even when the test fails
            pid = int(line.split(" pid ")[1].split()[0])
            os.kill(pid, 9)
        shutil.rmtree(path, ignore_errors=True)


def test_leftovers_lists_a_running_server_of_the_folder(folder):
    path = folder("left")
    embedded.start_redis()

    found = embedded.leftovers(path)

    assert len(found) == 1 and "redis" in found[0] and str(path) in found[0]
    embedded.stop_redis()
    assert embedded.leftovers(path) == []
