"""Manuals, warranty terms and safety guides tied to demo products (plain data; one manual is a PDF)."""

import re
from dataclasses import dataclass

from demo import manuals_home, manuals_tools
from demo.pdf import pdf_from_markdown
from demo.products import ProductDraft, fmt
from demo.tenants import TenantSpec

MANUALS = {"en": {**manuals_home.MANUALS_EN, **manuals_tools.MANUALS_EN},
           "de": {**manuals_home.MANUALS_DE, **manuals_tools.MANUALS_DE}}  # fmt: skip
PDF_MANUALS = {("boltwerk-industrial", "cordless-drills")}  # shipped as a scanned-in PDF, as suppliers do
SLUG_MAX = 120  # Document.slug max_length
UNITS = {
    "gb": "GB", "in": "in", "kg": "kg", "g": "g", "w": "W", "wh": "Wh", "v": "V", "nm": "Nm", "mm": "mm", "ah": "Ah",
    "h": "h", "hz": "Hz", "l": "l", "db": "dB", "rpm": "rpm", "mah": "mAh", "m": "m", "mp": "MP", "kn": "kN",
    "min": "min", "bar": "bar", "c": "°C", "aw": "AW", "days": "days", "ml": "ml", "bpm": "bpm", "mpa": "MPa",
    "hrc": "HRC", "cm": "cm",
}  # fmt: skip
ACRONYMS = {"cpu", "ram", "os", "anc", "usb", "ip", "hdr", "hdmi", "snr", "vde", "eta", "en388", "uv", "fps"}
LABELS_DE = {
    "type": "Typ", "water_tank_l": "Wassertank", "power_w": "Leistung", "milk_system": "Milchsystem",
    "pressure_bar": "Pumpendruck", "colour": "Farbe", "voltage_v": "Spannung", "torque_nm": "Drehmoment",
    "chuck_mm": "Bohrfutter", "speed_rpm": "Leerlaufdrehzahl", "weight_kg": "Gewicht", "brushless": "Bürstenlos",
    "hammer_mode": "Schlagbohren", "battery_ah": "Akkukapazität",
}  # fmt: skip


@dataclass(frozen=True)
class DocumentDraft:
    slug: str
    kind: str  # manual, warranty or guide
    locale: str
    title: str
    body: str  # markdown; for a PDF, the text it was rendered from
    product_handle: str
    format: str = "markdown"
    pdf: bytes | None = None

    @property
    def filename(self) -> str:
        return f"{self.slug}.pdf"


class _Blank(dict):
    def __missing__(self, key):  # an attribute this product lacks reads as a dash, not a KeyError
        return "–"


def _values(product: ProductDraft, locale: str) -> dict:
    sku = product.skus[0].attributes if product.skus else {}
    values = {k: fmt(v, locale) for k, v in {**product.attributes, **sku}.items()}
    if "battery_ah" in sku:  # the 4 A fast charger
        values["charge_min"] = str(int(sku["battery_ah"] * 15))
    return _Blank(values, brand=product.brand, title=product.title, name=_short(product.title))


def _short(title: str) -> str:
    return title.split(",")[0]


def _label(key: str, locale: str) -> str:
    if locale == "de" and key in LABELS_DE:
        return LABELS_DE[key]
    head, _, unit = key.rpartition("_")
    words = (head if unit in UNITS else key).split("_")
    return " ".join(w.upper() if w in ACRONYMS else w for w in words).capitalize().replace("Usb", "USB")


def _spec_value(key: str, value, locale: str) -> str:
    unit = key.rpartition("_")[2]
    return (
        f"{fmt(value, locale)} {UNITS[unit]}" if unit in UNITS and not isinstance(value, bool) else fmt(value, locale)
    )


def spec_table(product: ProductDraft, locale: str = "en") -> str:
    attributes = {**product.attributes, **(product.skus[0].attributes if product.skus else {})}
    head = "| Specification | Value |" if locale == "en" else "| Merkmal | Wert |"
    rows = [f"| {_label(k, locale)} | {_spec_value(k, v, locale)} |" for k, v in attributes.items()]
    return "\n".join([head, "|---|---|", *rows])


SAFETY_EN = {
    "contains_batteries": "This product contains a lithium-ion battery. Do not open, crush or heat it above 60 °C, "
    "and do not charge it unattended overnight. Use only the supplied or approved chargers.",
    "hazardous": "This product is classified as hazardous. Read the hazard statements on the label and keep it out "
    "of the reach of children.",
    "age_restricted": "This product is sold to adults only (18+). Keep it out of the reach of children.",
    "none": "Use only with the mains voltage stated on the type plate. Unplug before cleaning or maintenance.",
}
SAFETY_DE = {
    "contains_batteries": "Dieses Produkt enthält einen Lithium-Ionen-Akku. Nicht öffnen, quetschen oder über 60 °C "
    "erhitzen und nicht unbeaufsichtigt über Nacht laden. Nur mitgelieferte oder freigegebene Ladegeräte verwenden.",
    "none": "Nur mit der auf dem Typenschild angegebenen Netzspannung betreiben. Vor Reinigung und Wartung den "
    "Netzstecker ziehen.",
}


def _manual_body(tenant: TenantSpec, product: ProductDraft, template: str, locale: str) -> str:
    codes = ", ".join(s.code for s in product.skus)
    name = _short(product.title)
    if locale == "de":
        intro = (f"# {name} – Betriebsanleitung\n\nArtikelnummern: {codes}. Lesen Sie diese Anleitung vor dem "
                 "ersten Gebrauch und bewahren Sie sie auf.\n\n## Technische Daten\n\n")  # fmt: skip
        safety = SAFETY_DE.get(product.compliance_category, SAFETY_DE["none"])
        tail = (f"## Sicherheit\n\n{safety}\n\n## Entsorgung\n\nElektrogeräte und Akkus gehören nicht in den "
                f"Hausmüll. Geben Sie sie bei einer Sammelstelle oder bei uns ab.\n\n## Service\n\n"
                f"support@{tenant.domain}\n")  # fmt: skip
    else:
        intro = (f"# {name} – Operating manual\n\nArticle numbers: {codes}. Read this manual before first use and "
                 "keep it for later reference.\n\n## Specifications\n\n")  # fmt: skip
        safety = SAFETY_EN[product.compliance_category]
        tail = (f"## Safety\n\n{safety}\n\n## Disposal\n\nDo not put electrical products or batteries in household "
                "waste. Return them to a collection point or to us free of charge (WEEE Directive 2012/19/EU, "
                f"Battery Regulation (EU) 2023/1542).\n\n## Support\n\nsupport@{tenant.domain}\n")  # fmt: skip
    section = template.format_map(_values(product, locale))
    return f"{intro}{spec_table(product, locale)}\n\n{section}\n{tail}"


def _warranty_body(tenant: TenantSpec, product: ProductDraft) -> str:
    name = _short(product.title)
    years, bonus = (1, 2) if tenant.b2b else (2, 1)
    wear = "carbon brushes, chucks, blades and discs" if tenant.b2b else "ear cushions, filters, brushes and seals"
    return f"""# {name} – Warranty terms

These terms are issued by {product.brand}, the manufacturer. They apply in addition to your statutory rights and to
the warranty of {tenant.name}, and do not limit either.

## Warranty period

- **{years * 12} months** from the date of purchase for the {name} (article numbers
  {", ".join(s.code for s in product.skus)}).
- Register the product within 30 days at {product.brand.lower().replace(" ", "")}.example/register to extend the
  warranty by **{bonus * 12} months**, to {(years + bonus) * 12} months in total.
- Batteries and chargers: 24 months or 500 charge cycles, whichever comes first.

## What is covered

Faults in materials and workmanship under normal use. {product.brand} repairs the product or, if repair is not
economical, replaces it with the same or an equivalent model.

## What is not covered

- Wear parts: {wear}.
- Damage from drops, liquids, overloading, or use with third-party batteries and chargers.
- Products whose serial number has been removed or made illegible.

## How to claim

1. Note the serial number from the type plate.
2. Contact support@{tenant.domain} or use **Report a fault** in your account, with proof of purchase.
3. Send the product with the prepaid label; repairs take 10 working days plus shipping.

## Spare parts

Spare parts for the {name} remain available for at least 7 years after the end of production.
"""


def _slug(kind: str, handle: str) -> str:
    return re.sub(r"-+$", "", f"{kind}-{handle}"[:SLUG_MAX])


def _first_per_category(products: list[ProductDraft], offset: int = 0) -> dict[str, ProductDraft]:
    grouped: dict[str, list[ProductDraft]] = {}
    for product in products:
        grouped.setdefault(product.category, []).append(product)
    return {slug: items[offset % len(items)] for slug, items in grouped.items()}


def _manual(tenant: TenantSpec, product: ProductDraft, locale: str) -> DocumentDraft:
    body = _manual_body(tenant, product, MANUALS[locale][product.category], locale)
    slug = _slug("manual" if locale == "en" else f"manual-{locale}", product.handle)
    title = body.splitlines()[0].lstrip("# ")
    if locale == "en" and (tenant.slug, product.category) in PDF_MANUALS:
        return DocumentDraft(slug, "manual", locale, title, body, product.handle, "pdf", pdf_from_markdown(title, body))
    return DocumentDraft(slug, "manual", locale, title, body, product.handle)


def documents_generate(tenant: TenantSpec, products: list[ProductDraft]) -> list[DocumentDraft]:
    """Return a manual per category that has one (English, some also German), warranty terms and guides."""
    firsts, seconds = _first_per_category(products), _first_per_category(products, offset=1)
    drafts = []
    for locale in ("en", "de"):
        drafts += [_manual(tenant, p, locale) for slug, p in firsts.items() if slug in MANUALS[locale]]
    for slug, product in seconds.items():
        if slug in MANUALS["en"]:
            body = _warranty_body(tenant, product)
            title = f"{_short(product.title)} – Warranty terms"
            drafts.append(
                DocumentDraft(_slug("warranty", product.handle), "warranty", "en", title, body, product.handle)
            )
    for slug, product in firsts.items():
        if slug in manuals_tools.GUIDES_EN:
            body = f"# {_short(product.title)} – Safety and handling\n\n" + manuals_tools.GUIDES_EN[slug].format_map(
                _values(product, "en")
            )
            title = f"{_short(product.title)} – Safety and handling"
            drafts.append(DocumentDraft(_slug("guide", product.handle), "guide", "en", title, body, product.handle))
    return drafts
