"""Encryption at rest with Fernet: keys from a setting, or derived from DJANGO_SECRET_KEY for one purpose.

A setting of keys holds one or more Fernet keys, comma-separated: the first encrypts, all decrypt (rotation:
put the new key first). A derived cipher needs no setting of its own: its key is HKDF-SHA256 of SECRET_KEY
with the purpose as context, so keys for two purposes tell nothing about each other, and SECRET_KEY_FALLBACKS
keep decrypting what an earlier SECRET_KEY encrypted.
"""

import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

FERNET_HINT = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


def fernet_keys(value: str) -> list[str]:
    """Split a comma-separated setting of keys."""
    return [key.strip() for key in (value or "").split(",") if key.strip()]


def fernet_keys_problem(name: str, value: str) -> str | None:
    """Return what is wrong with the setting `name` holding `value` (a key that is not a Fernet key), or None."""
    for i, key in enumerate(fernet_keys(value), 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return (
                f"{name}: key {i} is not a Fernet key (32 url-safe base64-encoded bytes; make one with {FERNET_HINT})."
            )
    return None


def multi_fernet(keys) -> MultiFernet:
    """A cipher that encrypts with the first key and decrypts with any."""
    return MultiFernet([Fernet(key) for key in keys])


def derived_key(secret: str, purpose: str) -> bytes:
    """Return a Fernet key derived from `secret` for `purpose` alone (HKDF-SHA256)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


def secret_key_cipher(purpose: str) -> MultiFernet:
    """The cipher for `purpose`: encrypts under SECRET_KEY, decrypts under it and SECRET_KEY_FALLBACKS."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return multi_fernet([derived_key(secret, purpose) for secret in secrets if secret])
