"""Event sources and their signing secrets: created, rotated and revoked here (the admin and
`manage.py event_source` call these), and the check that a request was signed by a live secret of its source.

A secret is shown once, by the call that makes it, and stored Fernet-encrypted under a key derived from
DJANGO_SECRET_KEY (core.cipher). Rotating adds a new secret and lets the older ones verify for an overlap
(EVENT_SECRET_OVERLAP_HOURS, or the caller's), so a sender switches without a refused event.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Tenant
from core.cipher import secret_key_cipher
from knowledge.ingestion.signing import (
    SIGNATURE_HEADER,
    SIGNATURE_RE,
    TIMESTAMP_HEADER,
    TIMESTAMP_RE,
    signature_matches,
)
from knowledge.models import EventSecret, EventSource

logger = logging.getLogger(__name__)

SECRET_PREFIX = "evsec_"  # recognisable, so logs scrub it (config/logfilters.py)
CIPHER_PURPOSE = "knowledge.event-source-secrets"
NAME_SHOWN_MAX = 100


@dataclass(frozen=True)
class IssuedSecret:
    """A secret just made: show it once, store it nowhere."""

    source: EventSource
    secret: str


class SignatureRefused(Exception):
    """The request does not prove it comes from a live source: `header` names what to fix."""

    def __init__(self, header: str, message: str, status: int = 401):
        super().__init__(message)
        self.header, self.message, self.status = header, message, status


def default_overlap() -> timedelta:
    return timedelta(hours=settings.EVENT_SECRET_OVERLAP_HOURS)


def _secret_add(source: EventSource) -> str:
    raw = SECRET_PREFIX + secrets.token_urlsafe(32)
    EventSecret.objects.create(
        source=source,
        ciphertext=secret_key_cipher(CIPHER_PURPOSE).encrypt(raw.encode()),
        fingerprint=hashlib.sha256(raw.encode()).hexdigest()[:12],
    )
    return raw


@transaction.atomic
def event_source_create(*, tenant: Tenant, name: str) -> IssuedSecret:
    """Create a source for `tenant` with its first secret (ValidationError naming `name` if taken or not a slug)."""
    source = EventSource(tenant=tenant, name=name)
    source.full_clean()
    source.save()
    return IssuedSecret(source, _secret_add(source))


@transaction.atomic
def event_source_rotate(source: EventSource, *, overlap: timedelta | None = None) -> IssuedSecret:
    """Add a new secret; the source's other live secrets verify until `overlap` from now, then no longer."""
    overlap = default_overlap() if overlap is None else overlap
    if overlap < timedelta(0):
        raise ValidationError({"overlap": "The overlap cannot be negative."})
    source = EventSource.objects.select_for_update().get(pk=source.pk)
    if source.revoked_at is not None:
        raise ValidationError(f"The event source {source.name!r} is revoked: create a new one.")
    until = timezone.now() + overlap
    source.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=until)).update(expires_at=until)
    return IssuedSecret(source, _secret_add(source))


@transaction.atomic
def event_source_revoke(source: EventSource) -> bool:
    """Refuse every event of the source from now on; False when it was revoked already."""
    return bool(EventSource.objects.filter(pk=source.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def event_secrets_live(source: EventSource, now: datetime | None = None) -> list[str]:
    """The source's secrets that verify now, decrypted (one under a key no longer configured is skipped)."""
    now = now or timezone.now()
    cipher, live = secret_key_cipher(CIPHER_PURPOSE), []
    for secret in source.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)):
        try:
            live.append(cipher.decrypt(bytes(secret.ciphertext)).decode())
        except InvalidToken:
            logger.warning("event source %s: secret %s does not decrypt with DJANGO_SECRET_KEY or its fallbacks",
                           source.name, secret.fingerprint)  # fmt: skip
    return live


def event_source_verify(*, name: str, timestamp: str, signature: str, body: bytes, now=None) -> EventSource:
    """Return the live source `name` whose secret signed `timestamp` and `body`; raise SignatureRefused.

    An unknown or revoked source is refused like a wrong signature, so the answer tells nothing about which
    sources exist.
    """
    now = now or timezone.now()
    if not timestamp:
        raise SignatureRefused(TIMESTAMP_HEADER, f"Send {TIMESTAMP_HEADER}: the Unix time in seconds.")
    if not TIMESTAMP_RE.match(timestamp):
        raise SignatureRefused(TIMESTAMP_HEADER, f"{TIMESTAMP_HEADER} is not a Unix time in seconds.", 400)
    if not SIGNATURE_RE.match(signature or ""):
        raise SignatureRefused(SIGNATURE_HEADER, f"Send {SIGNATURE_HEADER}: sha256=<64 hex digits>.")
    source = EventSource.objects.select_related("tenant").filter(name=name, revoked_at__isnull=True).first()
    if source is None or not signature_matches(event_secrets_live(source, now), timestamp, body, signature):
        raise SignatureRefused(
            SIGNATURE_HEADER,
            f"The signature does not verify for source {name[:NAME_SHOWN_MAX]!r}: it is HMAC-SHA256, in hex, of "
            f'{TIMESTAMP_HEADER} + "." + the raw body, under a live secret of the source.',
        )
    skew = abs(now.timestamp() - int(timestamp))
    if skew > settings.EVENT_TIMESTAMP_TOLERANCE_S:
        raise SignatureRefused(
            TIMESTAMP_HEADER,
            f"{TIMESTAMP_HEADER} is {skew:.0f} s from the server's time; it must be within "
            f"{settings.EVENT_TIMESTAMP_TOLERANCE_S} s: sign each request when it is sent.",
        )
    return source
