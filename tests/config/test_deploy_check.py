"""`manage.py check --deploy` is clean under production settings, and refuses to pass without a vault key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _check(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PII_", "LLM_"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        PII_VAULT_KEY=Fernet.generate_key().decode(),
        LLM_API_KEY="",
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={k: v for k, v in env.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy__clean_under_production_settings():
    result = _check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy__fails_without_a_pii_vault_key():
    result = _check(PII_VAULT_KEY=None)

    assert result.returncode != 0
    assert "governance.E001" in result.stderr + result.stdout
    assert "PII_VAULT_KEY is required" in result.stderr + result.stdout
