"""A logging filter that scrubs PII and secrets from every record before any handler writes it.

Wired on the console handler in settings.LOGGING (and Celery keeps Django's logging: it does not hijack the
root logger), so every record of every logger is scrubbed: the formatted message, the exception text and the
stack. PII values become `[EMAIL]`, `[PHONE]` ... (never vault tokens: logging must not write to the
database); API keys (`ck_…`), event-source secrets (`evsec_…`), Authorization header values, bearer tokens,
`sk-…` keys and the configured secrets (PII_VAULT_KEY, LLM_API_KEY, DJANGO_SECRET_KEY and its fallbacks)
become `[SECRET]`.
"""

import logging
import re

from django.conf import settings

SECRET = "[SECRET]"
SECRET_PATTERNS = (
    re.compile(r"\bck_[A-Za-z0-9_-]{6,}"),  # our API keys: ck_<prefix>_<secret>
    re.compile(r"\bevsec_[A-Za-z0-9_-]{6,}"),  # event sources' signing secrets
    re.compile(r"(?i)(authorization\b['\"]?\s*[:=]\s*['\"]?)[^'\"\n,}]+"),  # Authorization: <anything>
    re.compile(r"(?i)\b((?:api-key|bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),  # OpenAI-style keys
)
SECRET_SETTINGS = ("PII_VAULT_KEY", "LLM_API_KEY", "SECRET_KEY", "SECRET_KEY_FALLBACKS")
MIN_SECRET = 6  # a shorter configured "secret" would scrub ordinary letters


def configured_secrets() -> list[str]:
    values = []
    for name in SECRET_SETTINGS:
        raw = getattr(settings, name, "") or ""
        raw = raw if isinstance(raw, str) else ",".join(raw)  # SECRET_KEY_FALLBACKS is a list
        values += [v.strip() for v in raw.split(",") if len(v.strip()) >= MIN_SECRET]
    return sorted(set(values), key=len, reverse=True)


def scrub(text: str) -> str:
    """Return `text` without secrets or PII values."""
    if not text:
        return text
    for secret in configured_secrets():
        text = text.replace(secret, SECRET)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + SECRET, text)
    from core.pii import pii_find  # imported late: settings must be loaded first

    spans = pii_find(text)
    for span in reversed(spans):
        text = f"{text[: span.start]}[{span.kind}]{text[span.end :]}"
    return text


class RedactingFilter(logging.Filter):
    """Rewrite each record's message, exception text and stack with `scrub`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: log what there is, scrubbed
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
