import hashlib
import secrets

from django.db import models

from catalog.models import CustomerGroup, Tenant

KEY_PREFIX_LEN = 8


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A storefront's key: scoped to one tenant and, optionally, one customer group. Stored hashed."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys",
        help_text="Prices and entitlements the key sees; empty: the tenant's retail view.",
    )  # fmt: skip
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=KEY_PREFIX_LEN, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["tenant", "name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return (prefix, raw key); the raw key is shown once and never stored."""
        prefix = secrets.token_hex(KEY_PREFIX_LEN // 2)
        return prefix, f"ck_{prefix}_{secrets.token_urlsafe(32)}"
