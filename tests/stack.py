"""Pytest plugin (loaded with -p before Django reads settings): point the suite at its own embedded servers.

Tests use their own data folder (var/test, with its own Redis port kept in the folder), so a running demo
is never touched, and the run stops the folder's servers when it ends.
"""

import os
import secrets

os.environ.setdefault("EMBEDDED_DIR", "var/test")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(32))
os.environ.setdefault("INDEX_SWEEP_GRACE_S", "2")  # so sweep tests wait seconds, not the production 30 s
os.environ.setdefault("INDEX_SWEEP_EVERY_S", "1")
os.environ.setdefault("INGESTION_FRESHNESS_EVERY_S", "1")
os.environ.setdefault("EVENT_HOURS_PROFILE_EVERY_S", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Tests run with DEBUG off, as production does: a fixed (public) vault key, and plain-HTTP test clients.
os.environ.setdefault("PII_VAULT_KEY", "jbaFMXxyjd2t2MFrJr1jnT0VmFfk9Duox9RnxJXhga4=")
os.environ.setdefault("DJANGO_SSL_REDIRECT", "0")

from config import embedded  # noqa: E402

EMBEDDED_PARTS = embedded.ensure_started()


def pytest_unconfigure(config):
    """Stop the test folder's servers (not those DATABASE_URL or REDIS_URL named): no daemon outlives the run."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    embedded.stop(EMBEDDED_PARTS)
