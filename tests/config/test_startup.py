import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = settings.BASE_DIR
NO_VECTOR_ROLE = "storefront_novector"
NO_VECTOR_DB = "novector_db"


def _manage(*args, env_overrides: dict, drop=()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop} | env_overrides
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def database_without_vector(django_db_blocker):
    """A database where `vector` is not created and a role that is not allowed to create it."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {NO_VECTOR_DB}")
        cursor.execute(f"DROP ROLE IF EXISTS {NO_VECTOR_ROLE}")
        cursor.execute(f"CREATE ROLE {NO_VECTOR_ROLE} LOGIN NOSUPERUSER NOCREATEDB")
        cursor.execute(f"CREATE DATABASE {NO_VECTOR_DB}")
    parts = urlsplit(os.environ["DATABASE_URL"])
    netloc = f"{NO_VECTOR_ROLE}:@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    yield urlunsplit(parts._replace(netloc=netloc, path=f"/{NO_VECTOR_DB}"))
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {NO_VECTOR_DB} WITH (FORCE)")
        cursor.execute(f"DROP ROLE IF EXISTS {NO_VECTOR_ROLE}")


def test_startup__database_without_pgvector_stops_with_one_clear_message(database_without_vector):
    result = _manage("check", env_overrides={"DATABASE_URL": database_without_vector})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Start-up stopped" in result.stderr and "'vector' extension is not created" in result.stderr
    assert "install pgvector" in result.stderr and "CREATE EXTENSION vector;" in result.stderr


def test_startup__secret_key_is_required_outside_debug():
    result = _manage("check", env_overrides={"DJANGO_DEBUG": "0"}, drop=("DJANGO_SECRET_KEY",))

    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY is required" in result.stderr and "Traceback" not in result.stderr


def test_startup__debug_runs_without_a_secret_key():
    result = _manage("check", env_overrides={"DJANGO_DEBUG": "1"}, drop=("DJANGO_SECRET_KEY",))

    assert result.returncode == 0, result.stderr
