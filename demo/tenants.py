"""The two demo tenants: customer groups, price lists, warehouses and demo API keys (plain data)."""

from dataclasses import dataclass
from decimal import Decimal

from demo import vocab_home, vocab_tools
from demo.products import CategoryDef

GBP_PER_EUR = Decimal("0.85")  # a round demo exchange rate; real lists are repriced, not converted


@dataclass(frozen=True)
class GroupSpec:
    code: str
    name: str
    categories: tuple[str, ...] = ()  # category slugs the group may see; empty: every category


@dataclass(frozen=True)
class PriceListSpec:
    code: str
    name: str
    currency: str
    group: str | None  # a customer group code; None: the tenant's default (retail) list
    factor: Decimal  # the list price as a fraction of the retail EUR price (discount and currency)


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    country: str


@dataclass(frozen=True)
class ApiKeySpec:
    prefix: str  # 8 characters, the ApiKey.prefix length
    name: str
    group: str | None

    def raw_key(self, tenant_slug: str) -> str:
        """Return the documented demo key; never use derivable keys outside the demo."""
        return f"ck_{self.prefix}_{tenant_slug}-demo-key"


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    domain: str  # for support and privacy addresses in the policies
    prefix: str  # SKU code prefix
    b2b: bool  # writes trade terms into the policies
    categories: tuple[CategoryDef, ...]
    groups: tuple[GroupSpec, ...]
    price_lists: tuple[PriceListSpec, ...]
    warehouses: tuple[WarehouseSpec, ...]
    api_keys: tuple[ApiKeySpec, ...]
    locales: tuple[str, ...] = ("en", "de")
    default_locale: str = "en"


ACME = TenantSpec(
    slug="acme-retail",
    name="Acme Home & Electronics",
    domain="acme-home.example",
    prefix="ACME",
    b2b=False,
    categories=vocab_home.CATEGORIES,
    groups=(
        GroupSpec("retail", "Retail customers"),
        GroupSpec("business", "Acme for Business (EU)"),
        GroupSpec("business-uk", "Acme for Business (UK)"),
        GroupSpec(
            "education",
            "Schools & universities",
            ("computing", "laptops", "monitors", "tablets", "audio", "headphones"),
        ),
    ),
    price_lists=(
        PriceListSpec("retail-eur", "Retail (EUR)", "EUR", None, Decimal("1")),
        PriceListSpec("business-eur", "Business (EUR)", "EUR", "business", Decimal("0.88")),
        PriceListSpec("business-gbp", "Business UK (GBP)", "GBP", "business-uk", Decimal("0.88") * GBP_PER_EUR),
        PriceListSpec("education-eur", "Education (EUR)", "EUR", "education", Decimal("0.82")),
    ),
    warehouses=(
        WarehouseSpec("nl-venlo", "Venlo fulfilment centre", "NL"),
        WarehouseSpec("de-leipzig", "Leipzig distribution centre", "DE"),
    ),
    api_keys=(
        ApiKeySpec("demo0001", "Storefront (retail)", None),
        ApiKeySpec("demo0002", "Education portal", "education"),
    ),
)

BOLTWERK = TenantSpec(
    slug="boltwerk-industrial",
    name="Boltwerk Industrial Supply",
    domain="boltwerk.example",
    prefix="BWK",
    b2b=True,
    categories=vocab_tools.CATEGORIES,
    groups=(
        GroupSpec("retail", "Trade counter (cash customers)"),
        GroupSpec("trade", "Trade accounts (EU)"),
        GroupSpec("trade-uk", "Trade accounts (UK)"),
        GroupSpec(
            "facilities",
            "Facility management contracts",
            ("safety-ppe", "safety-gloves", "safety-glasses", "hearing-protection", "fasteners", "screws", "anchors"),
        ),
    ),
    price_lists=(
        PriceListSpec("retail-eur", "Trade counter (EUR)", "EUR", None, Decimal("1")),
        PriceListSpec("trade-eur", "Trade (EUR)", "EUR", "trade", Decimal("0.82")),
        PriceListSpec("trade-gbp", "Trade UK (GBP)", "GBP", "trade-uk", Decimal("0.82") * GBP_PER_EUR),
        PriceListSpec("facilities-eur", "Facility contracts (EUR)", "EUR", "facilities", Decimal("0.76")),
    ),
    warehouses=(
        WarehouseSpec("de-duisburg", "Duisburg central warehouse", "DE"),
        WarehouseSpec("gb-birmingham", "Birmingham trade hub", "GB"),
    ),
    api_keys=(
        ApiKeySpec("demo0003", "Trade counter storefront", None),
        ApiKeySpec("demo0004", "Facility management portal", "facilities"),
    ),
)

TENANTS = (ACME, BOLTWERK)
