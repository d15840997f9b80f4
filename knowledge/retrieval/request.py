"""What a search asks for, as typed values: the API view builds one from its serializer, the assistant directly.

`search()` and `visibility_for()` read these fields only, never a query-string dict: HTTP shapes stop at the
view.
"""

from dataclasses import dataclass, field, fields
from decimal import Decimal

from core.tenancy import Caller

QUERY_MAX = 500  # a search box, not a document: the API refuses longer input, never silently cuts it
PAGE_SIZE = 10
MAX_PAGE_SIZE = 50  # the fused pool holds up to 250 candidates: 5 full pages at the maximum


@dataclass(frozen=True)
class SearchFilters:
    """The product filters of a search. Any of them set leaves out passages that belong to no product."""

    category: str | None = None  # a category slug; its subcategories are included
    in_stock: bool | None = None  # some active SKU has stock (True) or none has (False)
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    compliance_category: str | None = None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def narrows_products(self) -> bool:
        return any(getattr(self, name) not in (None, "") for name in self.names())


@dataclass(frozen=True)
class SearchRequest:
    """One page of a caller's search: the query, its filters, the page, and the locale to keep to.

    `product_scope`, when set, keeps the search to these products' passages (ids of the caller's tenant): their
    product text, SKUs and the documents attached to them (reviews and Q&A included); `with_policies` adds the
    tenant's policies to that scope (the assistant's questions about one product).
    """

    caller: Caller
    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    locale: str | None = None
    page: int = 1
    size: int = PAGE_SIZE
    product_scope: tuple[int, ...] | None = None
    with_policies: bool = False
