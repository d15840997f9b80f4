"""Pytest plugin (loaded with -p before Django reads settings): point the suite at its own embedded servers.

Tests use a separate data folder and Redis port from `make run`, so a running demo is never touched.
"""

import os
import secrets

os.environ.setdefault("EMBEDDED_DIR", "var/test")
os.environ.setdefault("EMBEDDED_REDIS_PORT", "6391")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(32))
os.environ.setdefault("INDEX_SWEEP_GRACE_S", "2")  # so sweep tests wait seconds, not the production 30 s
os.environ.setdefault("INDEX_SWEEP_EVERY_S", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Tests run with DEBUG off, as production does: a fixed (public) vault key, and plain-HTTP test clients.
os.environ.setdefault("PII_VAULT_KEY", "jbaFMXxyjd2t2MFrJr1jnT0VmFfk9Duox9RnxJXhga4=")
os.environ.setdefault("DJANGO_SSL_REDIRECT", "0")

from config import embedded  # noqa: E402

embedded.ensure_started()
