"""`Authorization: Api-Key <key>`: resolves the caller's tenant, customer group and key lineage.

A revoked key is refused, and so is a rotated key once its overlap has ended (`expires_at`).
"""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from core.tenancy import Caller
from governance.models import ApiKey, hash_key

KEYWORD = "Api-Key"
LAST_USED_GRANULARITY_S = 60  # write last_used_at at most once a minute per key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() != KEYWORD.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(f"Send exactly one key: 'Authorization: {KEYWORD} <key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The API key has characters no key contains.") from exc
        now = timezone.now()
        keys = ApiKey.objects.usable(now).select_related("tenant", "customer_group")
        key = keys.filter(key_hash=hash_key(raw)).first()
        if key is None:  # an expired key is as good as revoked: one message for both
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_GRANULARITY_S:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return (None, Caller.of(key.tenant, key.customer_group, key))

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": f"`{KEYWORD} <key>`"}
