"""English policy texts (EU, UK, US): markdown with numbered clauses; every number comes from the terms."""

from __future__ import annotations

from demo.terms import Terms

REGION_NAMES = {"EU": "European Union", "UK": "United Kingdom", "US": "United States"}

STATUTORY_RETURNS = {
    "EU": "Consumers in the EU also have a statutory 14-day right of withdrawal under Directive 2011/83/EU. "
    "Our window includes and extends it; you do not need to give a reason.",
    "UK": "Under the Consumer Contracts Regulations 2013 you may cancel within 14 days of delivery. "
    "Our window includes and extends that right; you do not need to give a reason.",
    "US": "Returns are accepted at our discretion under this policy; state consumer laws may give you further rights.",
}
LEGAL_GUARANTEE = {
    "EU": "Under Directive (EU) 2019/771 goods must conform to the contract for **2 years** from delivery. During "
    "the first 12 months a defect is presumed to have existed at delivery unless we prove otherwise.",
    "UK": "Under the Consumer Rights Act 2015 you may reject a faulty item within **30 days** for a full refund. "
    "After that you are entitled to a repair or replacement, and you can claim for up to 6 years "
    "(5 years in Scotland).",
    "US": "Implied warranties of merchantability and fitness for a particular purpose apply as provided by the law "
    "of your state and are limited to the duration of the written warranty below where the law allows.",
}
CUSTOMS = {
    "EU": "Deliveries within the EU are free of customs duties. Prices include VAT at the rate of the destination "
    "country.",
    "UK": "We ship to the UK with duties paid (DDP): prices include UK VAT and there is nothing to pay on delivery.",
    "US": "Orders are shipped from our EU warehouse. Import duties and sales tax are calculated at checkout and "
    "collected by us, so the carrier will not ask you for payment.",
}
PRIVACY_LAW = {
    "EU": "the General Data Protection Regulation (GDPR)",
    "UK": "the UK GDPR and the Data Protection Act 2018",
    "US": "the California Consumer Privacy Act as amended by the CPRA (CCPA) and other applicable state laws",
}


RETURNS = """# Returns and refunds ({name})

This policy applies to orders from {t.tenant} delivered to the {name} and placed by {who}. It adds to your
statutory rights and does not limit them.

## 1. Return window

1.1 You can return items within **{t.return_days} days** of delivery, provided they are {condition}.
1.2 {statutory}
{holiday}
## 2. Condition of returned items

2.1 Return every item with all accessories, cables, manuals and any free gifts that came with it.
2.2 You may open and inspect an item as you would in a shop. If an item shows wear beyond that (scratches,
missing parts, used consumables), we may reduce the refund by the loss in value.
{fee}
## 3. Items that cannot be returned

- Software, video games and download codes once the seal is broken or the code has been revealed.
- In-ear headphones and other hygiene items once their seal is broken.
- Items cut to length or made to order, and hazardous goods (aerosols, adhesives) once opened.

## 4. How to return an item

1. Sign in, open **Orders**, choose the item and select **Return**.
2. Print the label or show the QR code at a drop-off point. {shipping}
3. Pack the item securely. Lithium batteries must travel in their original packaging.
4. Hand the parcel over within 7 days of registering the return.

## 5. Refunds

5.1 We refund within **{t.refund_days} days** of receiving the returned item, to the original payment method.
5.2 If you return a whole order, we also refund its standard delivery charge ({t.currency}{t.standard_fee}).
5.3 Express delivery surcharges are not refunded unless the item was faulty.

## 6. Contact

Write to {t.support_email}. Items that arrived faulty or damaged are handled under our warranty policy.
"""


WARRANTY = """# Warranty ({name})

## 1. Your statutory rights

{legal}

## 2. Our commercial warranty

2.1 On top of your statutory rights, {t.tenant} gives a **{t.warranty_months}-month warranty** from the date of
delivery on every product it sells.{bonus}
2.2 Rechargeable batteries are covered for {t.warranty_months} months or 500 charge cycles, whichever comes
first, and must keep at least 70% of their rated capacity over that time.
2.3 {use}

## 3. What the warranty covers

Defects in materials and workmanship that appear under normal use. We decide whether to repair or replace the
item; if neither is possible, we refund the purchase price.

## 4. What the warranty does not cover

- Wear parts such as brushes, blades, grinding discs, drill bits, filters and seals.
- Damage from accidents, misuse, overloading, water ingress beyond the stated IP rating, or use with
  non-approved batteries or chargers.
- Products repaired or modified by anyone other than us or an authorised service partner.
- Cosmetic wear that does not affect function.

## 5. How to claim

1. Open **Orders** in your account and select **Report a fault**, or write to {t.support_email}.
2. Describe the fault and give the serial number (on the type plate or in the settings menu).
3. We send a prepaid label within 1 working day. Repairs are completed within **15 working days** of arrival.
4. If we replace the item, the replacement is covered for the rest of the original warranty period or 6 months,
   whichever is longer.

## 6. Repairs outside the warranty

We quote a fixed price before any paid repair. The diagnosis fee of {t.currency}29 is waived if you accept the
quote.
"""


SHIPPING = """# Shipping and delivery ({name})

## 1. Delivery times and costs

| Service | Delivery time | Cost |
|---|---|---|
| Standard | {t.standard_days} working days | {standard} |
| Express | next working day when ordered before {t.cutoff} | {t.currency}{t.express_fee} |
| Bulky goods and pallets | 3–5 working days, by appointment | quoted at checkout |

1.1 Orders placed before **{t.cutoff}** on a working day leave our warehouse the same day when every item is in
stock. Orders with an out-of-stock item ship complete unless you ask for a part delivery.
1.2 Delivery times are estimates from dispatch; they are not guaranteed for remote areas and islands.

## 2. Dangerous goods

2.1 Lithium batteries (UN 3480 and UN 3481), aerosols and adhesives ship by road only; express service and
delivery to parcel lockers are not available for them.
2.2 Age-restricted items are handed over only to an adult who shows photo ID.

## 3. Customs, duties and taxes

{customs}

## 4. Tracking and failed deliveries

We email a tracking link at dispatch. The carrier tries twice; after that the parcel waits at the nearest depot
for 7 days before it comes back to us, and we refund the order minus the original delivery charge.

## 5. Damage in transit

Check the parcel on delivery. Report visible damage within **48 hours** to {t.support_email} with photos of the
parcel and its contents; we send a replacement or refund at no cost to you.
"""


PRIVACY = """# Privacy notice ({name})

This notice explains how {t.tenant} processes personal data under {law}.

## 1. Who is responsible

{t.tenant} is the controller of your personal data. You can reach our data protection officer at
{t.privacy_email}.

## 2. What we collect

- Account data: name, email address, phone number, delivery and billing addresses.
- Order data: items bought, prices paid, payment status and delivery history. Card numbers are held only by our
  payment provider.
- Usage data: pages viewed, searches and questions asked to the shopping assistant, device and browser type.
- For trade accounts: company name, VAT number and the names of authorised buyers.

## 3. Why we use it

3.1 To perform your contract: processing orders, deliveries, returns and warranty claims.
3.2 To meet legal duties: invoices and order records are kept for **10 years** for tax purposes.
3.3 For our legitimate interests: fraud prevention, securing our systems and improving search results.
3.4 With your consent: marketing emails and personalised recommendations.

## 4. How long we keep it

Account data is kept while your account is open and deleted 30 days after you close it. Questions asked to the
shopping assistant and its answers are kept for 90 days, unless they are needed to handle a complaint or a
legal claim. Marketing consent records are kept for 3 years after you withdraw consent.

## 5. Who receives it

Payment providers, carriers, our hosting provider and service partners who repair products under warranty, each
bound by a data processing agreement. Transfers outside the {name} rely on an adequacy decision or standard
contractual clauses.

## 6. Your rights

{rights}

## 7. Complaints

Contact us first at {t.privacy_email}. You may also complain to {t.authority}.
"""


def _who(t: Terms) -> str:
    return "business customers with a trade account" if t.b2b else "consumers"


def returns(t: Terms) -> tuple[str, str]:
    name = REGION_NAMES[t.region]
    condition = (
        "unused and in their original, unopened packaging" if t.b2b else "complete and in a condition to be resold"
    )
    statutory = (
        "The statutory right of withdrawal applies to consumers only; this return right is a voluntary offer to "
        "trade accounts."
        if t.b2b
        else STATUTORY_RETURNS[t.region]
    )
    holiday = (
        "\n1.3 **Holiday returns:** items delivered between 15 November and 24 December can be returned until "
        "31 January of the following year.\n"
        if t.holiday_extension
        else ""
    )
    fee = (
        f"2.3 A restocking fee of **{t.restocking_pct}%** of the net item price applies to opened items and to "
        "items returned without their original packaging. Faulty items never carry a restocking fee.\n"
        if t.restocking_pct
        else "2.3 There is no restocking fee.\n"
    )
    shipping = (
        "Return shipping is at your cost unless the item is faulty or we sent the wrong item."
        if t.b2b
        else "Return shipping is free: use the prepaid label from your account."
    )
    body = RETURNS.format(
        t=t,
        condition=condition,
        fee=fee,
        holiday=holiday,
        name=name,
        shipping=shipping,
        statutory=statutory,
        who=_who(t),
    )
    return f"Returns and refunds – {name}", body


def warranty(t: Terms) -> tuple[str, str]:
    name = REGION_NAMES[t.region]
    legal = (
        "For business customers the statutory liability for defects is limited to 12 months from delivery as far "
        "as the law allows; claims for injury or intent are not limited."
        if t.b2b
        else LEGAL_GUARANTEE[t.region]
    )
    bonus = (
        f" Register the product within 30 days of delivery and we extend this warranty by a further "
        f"**{t.registration_bonus_months} months**."
        if t.registration_bonus_months
        else ""
    )
    use = "Commercial and professional use is covered." if t.b2b else "Use in a business does not void the warranty."
    body = WARRANTY.format(t=t, bonus=bonus, legal=legal, name=name, use=use)
    return f"Warranty – {name}", body


def shipping(t: Terms) -> tuple[str, str]:
    name = REGION_NAMES[t.region]
    standard = f"{t.currency}{t.standard_fee}; free on orders over {t.currency}{t.free_shipping_over}"
    body = SHIPPING.format(t=t, customs=CUSTOMS[t.region], name=name, standard=standard)
    return f"Shipping and delivery – {name}", body


def privacy(t: Terms) -> tuple[str, str]:
    name = REGION_NAMES[t.region]
    rights = (
        "You have the right to know what personal information we collect, to delete it, to correct it and to opt "
        "out of its sale or sharing. We do not sell personal information. We answer verified requests within "
        "45 days and never charge you or treat you differently for using these rights."
        if t.region == "US"
        else "You have the right to access, correct and erase your data, to restrict or object to its processing, "
        "and to receive it in a portable format. We answer within one month. Where processing rests on your "
        "consent, you can withdraw it at any time."
    )
    body = PRIVACY.format(t=t, law=PRIVACY_LAW[t.region], name=name, rights=rights)
    return f"Privacy notice – {name}", body
