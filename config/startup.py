"""Start-up checks that stop a process with one clear message instead of a traceback."""

import sys

REQUIRED_EXTENSIONS = ("vector", "pg_trgm")
INSTALL_HINT = {
    "vector": "install pgvector 0.8 or newer on the server (Debian: apt install postgresql-<major>-pgvector; "
    "or the pgvector/pgvector image)",
    "pg_trgm": "install the PostgreSQL contrib modules on the server (Debian: postgresql-contrib)",
}


def database_problem() -> str | None:
    """Return what the configured database lacks, or None when it has every required extension."""
    import django
    from django.db import DatabaseError, connection

    django.setup()
    where = f"database {connection.settings_dict['NAME']!r} as role {connection.settings_dict['USER']!r}"
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, installed_version FROM pg_available_extensions WHERE name = ANY(%s)",
                [list(REQUIRED_EXTENSIONS)],
            )
            found = dict(cursor.fetchall())
            for name in REQUIRED_EXTENSIONS:
                if name not in found:
                    return f"PostgreSQL ({where}) has no {name!r} extension: {INSTALL_HINT[name]}."
                if found[name] is None and not _try_create(cursor, name):
                    return (
                        f"PostgreSQL ({where}): the {name!r} extension is not created and this role may not "
                        f"create it. If the server lacks it, {INSTALL_HINT[name]}; then, as a superuser in this "
                        f"database, run: CREATE EXTENSION {name};"
                    )
    except DatabaseError as exc:
        return f"cannot use PostgreSQL ({where}): {str(exc).strip().splitlines()[0]}"
    finally:
        connection.close()
    return None


def _try_create(cursor, name: str) -> bool:
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic():
            cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
        return True
    except DatabaseError:
        return False


def require_database() -> None:
    """Exit with a message that says what to install when the database lacks pgvector or pg_trgm."""
    if len(sys.argv) > 1 and sys.argv[1] in ("help", "--help", "-h", "version", "--version"):
        return
    problem = database_problem()
    if problem:
        raise SystemExit(f"Start-up stopped: {problem}")
