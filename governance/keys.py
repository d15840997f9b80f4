"""API keys: issued, rotated and revoked here (the admin and `manage.py api_key` call these), each audited.

A raw key is returned once, by the call that makes it; only its hash is stored and it is never logged.
A new key starts a lineage (a UUID). Rotating a key issues the next key of the same lineage, with the same
tenant, customer group, name and scopes, and keeps the old key working for an overlap
(`API_KEY_ROTATION_OVERLAP_HOURS`, or the caller's), so clients switch without an outage; once the overlap
has ended the old key is refused. What outlives one key binds to its lineage: legal holds naming a key cover
the records of every key of its lineage, and a conversation continues under the rotated key (and only under
keys of its lineage). Rate plans count per tenant, so a rotation changes no limit.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.models import ApiKey, default_scopes, hash_key


@dataclass(frozen=True)
class IssuedKey:
    """A key just made and its raw value: show it once, store it nowhere."""

    key: ApiKey
    raw: str


def default_overlap() -> timedelta:
    return timedelta(hours=settings.API_KEY_ROTATION_OVERLAP_HOURS)


def _issue(key: ApiKey) -> IssuedKey:
    key.prefix, raw = ApiKey.generate()
    key.key_hash = hash_key(raw)
    key.full_clean()
    key.save()
    return IssuedKey(key, raw)


@transaction.atomic
def api_key_create(*, tenant, name: str, customer_group=None, scopes=None, actor=None) -> IssuedKey:
    """Issue a key that starts a new lineage."""
    if customer_group is not None and customer_group.tenant_id != tenant.pk:
        raise ValidationError({"customer_group": f"“{customer_group}” belongs to another tenant."})
    key = ApiKey(tenant=tenant, customer_group=customer_group, name=name, scopes=list(scopes or default_scopes()))
    issued = _issue(key)
    audit_record(action="api_key.create", actor=actor, tenant=tenant, obj=key, detail=_detail(key))
    return issued


@transaction.atomic
def api_key_rotate(key: ApiKey, *, overlap: timedelta | None = None, actor=None) -> IssuedKey:
    """Issue the next key of `key`'s lineage; `key` keeps working for `overlap`, then is refused.

    Raises ValidationError when `key` is revoked, expired or already rotated (rotate the newest key instead).
    """
    overlap = default_overlap() if overlap is None else overlap
    if overlap < timedelta(0):
        raise ValidationError({"overlap": "The overlap cannot be negative."})
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if not key.is_usable(now):
        raise ValidationError(f"{key} is revoked or expired: create a new key instead.")
    if key.expires_at is not None:
        newest = ApiKey.objects.usable(now).filter(lineage=key.lineage).order_by("-created_at").first()
        raise ValidationError(f"{key} was already rotated; rotate the newest key of its lineage, {newest}.")
    successor = ApiKey(
        tenant_id=key.tenant_id, customer_group_id=key.customer_group_id, name=key.name, scopes=key.scopes,
        lineage=key.lineage,
    )  # fmt: skip
    issued = _issue(successor)
    key.expires_at = now + overlap
    key.save(update_fields=["expires_at"])
    detail = _detail(successor) | {"replaces": key.prefix, "old_key_expires_at": key.expires_at.isoformat()}
    audit_record(action="api_key.rotate", actor=actor, tenant=key.tenant, obj=successor, detail=detail)
    return issued


@transaction.atomic
def api_key_revoke(key: ApiKey, *, actor=None) -> bool:
    """Revoke one key now (other keys of its lineage keep working); False when it was revoked already."""
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        audit_record(action="api_key.revoke", actor=actor, tenant=key.tenant, obj=key, detail=_detail(key))
    return bool(revoked)


@transaction.atomic
def api_key_lineage_revoke(lineage: uuid.UUID, *, actor=None) -> int:
    """Revoke every key of a lineage that is not revoked yet; return how many."""
    keys = list(ApiKey.objects.select_related("tenant").filter(lineage=lineage, revoked_at__isnull=True))
    for key in keys:
        api_key_revoke(key, actor=actor)
    return len(keys)


def _detail(key: ApiKey) -> dict:
    """What the audit log keeps about a key: never its raw value or hash."""
    return {"prefix": key.prefix, "lineage": str(key.lineage), "name": key.name, "scopes": list(key.scopes or ())}
