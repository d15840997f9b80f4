"""Who is asking: the caller every selector filters by, as plain ids, so no layer needs another's models."""

import uuid
from dataclasses import dataclass

LOCALE_CHOICES = [("en", "English"), ("de", "Deutsch")]


@dataclass(frozen=True)
class Caller:
    """A tenant, its customer group (None: retail), what the group may see, and what the key may do.

    `scopes` are an API key's scopes; None means a staff session, which Django permissions govern instead.
    `all_categories` is False when the customer group is entitled to some categories only. `key_lineage` is
    shared by a key and the keys that rotated it: what outlives one key (a conversation) binds to it.
    """

    tenant_id: int
    customer_group_id: int | None = None
    all_categories: bool = True
    scopes: frozenset[str] | None = None
    api_key_id: int | None = None
    locale: str = ""
    key_lineage: uuid.UUID | None = None

    @classmethod
    def of(cls, tenant, customer_group=None, api_key=None) -> "Caller":
        """Return the caller for these rows (a tenant, an optional customer group and API key)."""
        return cls(
            tenant_id=tenant.pk,
            customer_group_id=customer_group.pk if customer_group else None,
            all_categories=customer_group.all_categories if customer_group else True,
            scopes=frozenset(api_key.scopes or ()) if api_key else None,
            api_key_id=api_key.pk if api_key else None,
            locale=tenant.default_locale,
            key_lineage=api_key.lineage if api_key else None,
        )

    def scope_missing(self, scopes) -> str | None:
        """Return the first of `scopes` this caller's key lacks (None for sessions or when it holds them all)."""
        if self.scopes is None:
            return None
        return next((scope for scope in scopes if scope not in self.scopes), None)
