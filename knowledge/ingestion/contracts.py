"""Hold product records to the tenant's attribute contracts (catalog.contracts) while a run is decided.

`RecordContracts.check` is the one place a feed record meets its contract: the decide phase calls it for
every product, and any bulk writer that reuses the importer's validation gets it with it. It checks the
product as it will be stored (the record's attributes and category, or the live ones it leaves out), coerces
the record's attributes in place, and counts the required attributes missing per contract for held runs.
"""

from collections import Counter
from dataclasses import dataclass

from catalog.contracts import AttributeProblem, ContractBook, contract_check


@dataclass(frozen=True)
class MissingShare:
    category: str  # the slug of the category whose contract requires the attribute
    field: str
    missing: int
    rows: int

    @property
    def share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    def as_dict(self) -> dict:
        return {"category": self.category, "field": self.field, "missing": self.missing, "rows": self.rows,
                "share": round(self.share, 4)}  # fmt: skip


class RecordContracts:
    """A tenant's contracts in force, read once per decision, and what the checked records lacked."""

    def __init__(self, tenant_id: int):
        self.book = ContractBook(tenant_id)
        self.rows: Counter[str] = Counter()  # contract category -> products checked against it
        self.missing: Counter[tuple[str, str]] = Counter()  # (contract category, field) -> products without it

    def check(self, payload: dict, live: dict | None = None) -> tuple[AttributeProblem, ...]:
        """Check a product payload (with `live`, the stored product it updates); coerce its attributes."""
        live = live or {}
        contract = self.book.for_path(payload.get("category") or live.get("category"))
        if contract is None:
            return ()
        given = "attributes" in payload
        checked = contract_check(contract, payload["attributes"] if given else live.get("attributes") or {})
        self.rows[contract.category_slug] += 1
        for problem in checked.problems:
            if problem.missing:
                self.missing[(contract.category_slug, problem.field)] += 1
        if given and checked.coerced and not checked.problems:
            payload["attributes"] = checked.attributes
        return checked.problems

    def missing_shares(self) -> list[MissingShare]:
        """Per contract and required attribute: how many checked products lacked it, largest share first."""
        shares = [MissingShare(c, f, n, self.rows[c]) for (c, f), n in self.missing.items()]
        return sorted(shares, key=lambda m: (-m.share, m.category, m.field))
