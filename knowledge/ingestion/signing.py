"""Signing change events: HMAC-SHA256 over `timestamp + "." + raw body`, hex, in two headers.

    X-Event-Timestamp: 1735689600
    X-Event-Signature: sha256=5d41402abc4b2a76b9719d911017c592...

A sender calls `signed_headers(secret, body)`; the receiver recomputes the signature for each live secret of
the source and compares in constant time. Nothing here touches the database.
"""

import hashlib
import hmac
import re
import time

TIMESTAMP_HEADER = "X-Event-Timestamp"
SIGNATURE_HEADER = "X-Event-Signature"
SCHEME = "sha256="
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}\Z")  # Unix seconds
SIGNATURE_RE = re.compile(r"^sha256=[0-9a-fA-F]{64}\Z")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of `timestamp + "." + body` under `secret`."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Return the headers that sign `body` with `secret`, at `timestamp` (Unix seconds; default: now)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: SCHEME + signature(secret, stamp, body)}


def signature_matches(secrets: list[str], timestamp: str, body: bytes, header: str) -> bool:
    """Whether `header` (`sha256=<hex>`) signs `timestamp` and `body` under one of `secrets` (constant time)."""
    given = header[len(SCHEME) :].lower().encode()
    matched = False
    for secret in secrets:  # every secret is tried, so the time taken does not tell which one matched
        matched |= hmac.compare_digest(signature(secret, timestamp, body).encode(), given)
    return matched
