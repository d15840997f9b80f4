"""The rows an apply batch reads by natural key, looked up once per batch (a batch is one transaction)."""

from pathlib import Path

from catalog.models import SKU, Category, CustomerGroup, PriceList, Product, Tenant, Warehouse
from knowledge.models import Document, Policy

# record field -> (model, key column) of the row it names
LOOKUPS = {
    "product": (Product, "handle"),
    "sku": (SKU, "code"),
    "price_list": (PriceList, "code"),
    "warehouse": (Warehouse, "code"),
    "customer_group": (CustomerGroup, "code"),
}
OWN_KEYS = {  # record type -> (model, key field) of its own row
    "product": (Product, "handle"),
    "sku": (SKU, "code"),
    "price_list": (PriceList, "code"),
    "warehouse": (Warehouse, "code"),
    "customer_group": (CustomerGroup, "code"),
    "policy": (Policy, "slug"),
    "document": (Document, "slug"),
    "review": (Document, "slug"),
    "qa": (Document, "slug"),
}


class Context:
    """The tenant, the feed's folder, and rows already looked up in this batch (by natural key)."""

    def __init__(self, tenant: Tenant, directory: Path):
        self.tenant, self.directory = tenant, directory
        self._rows: dict[tuple, object] = {}

    def clear(self) -> None:
        self._rows.clear()

    def get(self, model, **key):
        """The tenant's row with this key, or None (a row found is remembered for the rest of the batch)."""
        ((column, value),) = key.items()
        row = self._rows.get((model, column, value))
        if row is None:
            row = model.objects.filter(tenant=self.tenant, **key).first()
            self.remember(model, column, row)
        return row

    def remember(self, model, column: str, row) -> None:
        if row is not None:
            self._rows[(model, column, getattr(row, column))] = row

    def forget(self, model, **key) -> None:
        ((column, value),) = key.items()
        self._rows.pop((model, column, value), None)

    def category(self, path: str | None) -> Category | None:
        return self.get(Category, slug=path.rsplit("/", 1)[-1]) if path else None

    def product(self, handle: str | None) -> Product | None:
        return self.get(Product, handle=handle) if handle else None

    def prefetch(self, payloads: list[dict]) -> None:
        """Read every row the payloads name (their own and those they refer to) with one query per model."""
        wanted: dict[tuple, set] = {}
        for payload in payloads:
            own = OWN_KEYS.get(payload["type"])
            if own:
                wanted.setdefault(own, set()).add(payload[own[1]])
            for field_name, lookup in LOOKUPS.items():
                if isinstance(payload.get(field_name), str) and payload["type"] != field_name:
                    wanted.setdefault(lookup, set()).add(payload[field_name])
        for (model, column), values in wanted.items():
            for row in model.objects.filter(tenant=self.tenant, **{f"{column}__in": values}):
                self.remember(model, column, row)
        slugs = {path.rsplit("/", 1)[-1] for payload in payloads for path in _category_paths(payload)}
        for category in Category.objects.filter(tenant=self.tenant, slug__in=slugs):
            self.remember(Category, "slug", category)


def _category_paths(payload: dict) -> list[str]:
    """The category paths a payload names: its category, its own path and parent, a group's entitlements."""
    paths = list(payload.get("categories") or [])
    if payload.get("category"):
        paths.append(payload["category"])
    if payload["type"] == "category":
        paths += [payload["path"], payload["path"].rpartition("/")[0] or payload["path"]]
    return paths
