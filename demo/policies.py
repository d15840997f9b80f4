"""The demo policies: concrete terms per tenant and region, rendered to markdown in English or German."""

from dataclasses import dataclass, replace

from demo import policy_texts_de, policy_texts_en
from demo.terms import Terms

REGIONS = ("EU", "UK", "US", "DE")  # DE is written in German; the others in English
KINDS = ("returns", "warranty", "shipping", "privacy")


@dataclass(frozen=True)
class PolicyDraft:
    slug: str
    kind: str
    region: str
    locale: str
    title: str
    body: str
    revision: tuple[str, str] | None = None  # (title, body) published as version 2


# Per region for consumers and for trade customers: (currency, return days, refund days, restocking %,
# warranty months, registration bonus, free shipping over, standard fee, standard days, express fee, cutoff).
_CONSUMER = {
    "EU": ("€", 30, 14, 0, 24, 12, 49, "4.95", "2–4", "9.95", "3 pm CET"),
    "UK": ("£", 30, 14, 0, 12, 12, 40, "3.95", "2–3", "7.95", "2 pm GMT"),
    "US": ("$", 30, 10, 0, 12, 12, 75, "6.95", "5–8", "24.95", "9 am ET"),
    "DE": ("€", 30, 14, 0, 24, 12, 49, "4,95", "1–3", "9,95", "15 Uhr"),
}
_TRADE = {
    "EU": ("€", 14, 14, 15, 12, 0, 250, "9.50", "1–3", "19.50", "4 pm CET"),
    "UK": ("£", 14, 14, 15, 12, 0, 200, "8.50", "2–4", "18.00", "2 pm GMT"),
    "US": ("$", 14, 10, 20, 12, 0, 500, "29.00", "7–10", "79.00", "9 am ET"),
    "DE": ("€", 14, 14, 15, 12, 0, 250, "9,50", "1–2", "19,50", "16 Uhr"),
}
AUTHORITIES = {
    "EU": "the data-protection authority of your EU member state",
    "UK": "the Information Commissioner's Office (ico.org.uk)",
    "US": "the California Privacy Protection Agency, for California residents",
    "DE": "die Datenschutzaufsichtsbehörde Ihres Bundeslandes",
}
# Second published versions, so that version history exists: (tenant slug, kind, region) -> changed terms.
REVISIONS = {
    ("acme-retail", "returns", "EU"): {"holiday_extension": True},
    ("acme-retail", "shipping", "UK"): {"free_shipping_over": 35},
    ("boltwerk-industrial", "returns", "EU"): {"restocking_pct": 10},
    ("boltwerk-industrial", "shipping", "UK"): {"free_shipping_over": 150},
}


def terms_for(*, tenant_name: str, domain: str, region: str, b2b: bool) -> Terms:
    values = (_TRADE if b2b else _CONSUMER)[region]
    return Terms(
        tenant_name,
        region,
        b2b,
        *values,
        support_email=f"support@{domain}",
        privacy_email=f"privacy@{domain}",
        authority=AUTHORITIES[region],
    )


def _render(kind: str, terms: Terms) -> tuple[str, str]:
    module = policy_texts_de if terms.locale == "de" else policy_texts_en
    return getattr(module, kind)(terms)


def policies_generate(*, tenant_slug: str, tenant_name: str, domain: str, b2b: bool) -> list[PolicyDraft]:
    """Return every kind of policy for every region, with a second version where REVISIONS says."""
    drafts = []
    for region in REGIONS:
        terms = terms_for(tenant_name=tenant_name, domain=domain, region=region, b2b=b2b)
        for kind in KINDS:
            title, body = _render(kind, terms)
            changes = REVISIONS.get((tenant_slug, kind, region))
            revision = _render(kind, replace(terms, **changes)) if changes else None
            slug = f"{kind}-{region.lower()}"
            drafts.append(PolicyDraft(slug, kind, region, terms.locale, title, body, revision))
    return drafts
