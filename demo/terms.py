"""The numbers a tenant's demo policies state; the policy texts only format them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Terms:
    """The numbers a tenant's policies state for one region; the texts only format them."""

    tenant: str
    region: str
    b2b: bool
    currency: str  # the symbol prices are quoted in
    return_days: int
    refund_days: int
    restocking_pct: int  # 0 for consumers
    warranty_months: int
    registration_bonus_months: int  # extra cover when the product is registered within 30 days
    free_shipping_over: int
    standard_fee: str
    standard_days: str
    express_fee: str
    cutoff: str  # order by this local time for same-day dispatch
    support_email: str
    privacy_email: str
    authority: str  # the data-protection supervisory authority
    holiday_extension: bool = False

    @property
    def locale(self) -> str:
        return "de" if self.region == "DE" else "en"
