"""Customer reviews: short, varied, some about a specific attribute, some negative (plain data)."""

from dataclasses import dataclass
from random import Random

from demo.products import DEMO_SEED, ProductDraft, fmt

REVIEWS_PER_PRODUCT = 0.3  # about a third of products have a review at any time: a few hundred in total
REVIEWS_MIN = 12  # per tenant, so a small test scale still has reviews of every rating
RATING_WEIGHTS = (11, 7, 12, 28, 42)  # 1 to 5 stars: the J-shaped spread of real review data
GERMAN_SHARE = 0.2  # German-speaking shoppers writing in German
REMARK_SHARE = 0.6  # reviews that mention a concrete attribute

# attribute -> (positive en, negative en, positive de, negative de); a "" leaves that case to the generic pools
REMARKS = {
    "battery_h": (
        "Battery life is as advertised: I get close to {battery_h} hours.",
        "Claims {battery_h} hours of battery; I barely get two thirds of that.",
        "Der Akku hält wirklich fast {battery_h} Stunden.",
        "Angeblich {battery_h} Stunden Akku, real eher zwei Drittel.",
    ),
    "weight_kg": (
        "At {weight_kg} kg it is light enough to carry all day.",
        "{weight_kg} kg does not sound like much, but it gets heavy.",
        "Mit {weight_kg} kg angenehm leicht.",
        "{weight_kg} kg klingt wenig, wird aber auf Dauer schwer.",
    ),
    "ram_gb": (
        "{ram_gb} GB of RAM handles dozens of browser tabs and Docker without a hiccup.",
        "{ram_gb} GB of RAM is not enough for photo editing; it swaps constantly.",
        "",
        "",
    ),
    "screen_in": (
        "The {screen_in}-inch screen is bright and sharp.",
        "The {screen_in}-inch screen reflects a lot in daylight.",
        "Das {screen_in}-Zoll-Display ist hell und scharf.",
        "",
    ),
    "torque_nm": (
        "{torque_nm} Nm drives 6 x 100 mm screws into oak without pre-drilling.",
        "{torque_nm} Nm on paper, but it stalls on long coach screws.",
        "Mit {torque_nm} Nm gehen 6 x 100er Schrauben ohne Vorbohren in Eiche.",
        "{torque_nm} Nm laut Datenblatt, aber bei langen Schrauben bleibt er stehen.",
    ),
    "battery_ah": (
        "The {battery_ah} Ah pack lasts a full day of fitting kitchens.",
        "The {battery_ah} Ah battery runs flat by lunchtime.",
        "Der {battery_ah}-Ah-Akku hält einen ganzen Arbeitstag.",
        "Der {battery_ah}-Ah-Akku ist mittags leer.",
    ),
    "noise_db": (
        "Quiet enough ({noise_db} dB) to run while the kids sleep.",
        "Loud: {noise_db} dB is very noticeable in a flat.",
        "",
        "Laut: {noise_db} dB hört man in der ganzen Wohnung.",
    ),
    "suction_aw": (
        "{suction_aw} AW pulls sand out of the carpet easily.",
        "",
        "",
        "",
    ),
    "water_tank_l": (
        "The {water_tank_l} l tank lasts about a week for two people.",
        "The {water_tank_l} l tank needs refilling every single day.",
        "Der {water_tank_l}-l-Tank reicht für zwei Personen etwa eine Woche.",
        "",
    ),
    "camera_mp": (
        "The {camera_mp} MP camera takes great photos in daylight.",
        "The {camera_mp} MP camera struggles in low light.",
        "",
        "Die {camera_mp}-MP-Kamera schwächelt bei wenig Licht.",
    ),
    "refresh_hz": (
        "{refresh_hz} Hz makes games feel smooth.",
        "",
        "{refresh_hz} Hz fühlen sich beim Zocken flüssig an.",
        "",
    ),
    "range_m": (
        "Measured {range_m} m across a warehouse without trouble.",
        "Struggles beyond 20 m in bright sunlight despite the {range_m} m rating.",
        "",
        "",
    ),
    "glove_size": (
        "Size {glove_size} fits true to size.",
        "Size {glove_size} runs small; order one size up.",
        "Größe {glove_size} passt genau.",
        "Größe {glove_size} fällt klein aus.",
    ),
    "pack_qty": (
        "A pack of {pack_qty} lasted a whole bathroom refit.",
        "",
        "",
        "",
    ),
    "snr_db": (
        "SNR {snr_db} dB is enough next to the concrete saw.",
        "",
        "",
        "",
    ),
    "output_w": (
        "{output_w} W is plenty for the garden.",
        "Distorts at full volume, {output_w} W or not.",
        "",
        "",
    ),
    "capacity_mah": (
        "{capacity_mah} mAh charges my phone about four times.",
        "",
        "",
        "",
    ),
    "battery_days": (
        "Battery really lasts {battery_days} days with GPS off.",
        "Advertised {battery_days} days, but I charge it every other day.",
        "",
        "",
    ),
}
OPENERS = {
    "en": {5: ("Excellent.", "Love it.", "Exactly what I needed.", "Best purchase this year.", ""),
           4: ("Very good overall.", "Solid product.", "Happy with it.", ""),
           3: ("It's okay.", "Mixed feelings.", "Does the job, nothing more.", ""),
           2: ("Disappointed.", "Not great.", "Expected more for the price."),
           1: ("Avoid.", "Returned it.", "Really poor.")},
    "de": {5: ("Hervorragend.", "Top!", "Genau das Richtige."), 4: ("Sehr gut.", "Solide.", "Zufrieden."),
           3: ("Ganz okay.", "Gemischte Gefühle."), 2: ("Enttäuschend.", "Nicht überzeugend."),
           1: ("Finger weg.", "Zurückgeschickt.")},
}  # fmt: skip
GENERIC = {  # (locale, trade customer) -> sentiment -> sentences
    ("en", False): {
        "good": ("Build quality feels premium.", "Setup took five minutes.", "Does everything the description says.",
                 "Arrived well packed.", "Easy to use, even for my parents.", "Second one I have bought."),
        "mixed": ("Works fine, but the app is clunky.", "Good value, though the finish could be better.",
                  "Does the job; setup was fiddly.", "Fine for occasional use, not for every day."),
        "bad": ("Stopped working after six weeks; waiting for the warranty repair.", "Arrived with a cracked casing.",
                "The instructions are useless.", "Feels cheap and rattles.", "Support took ten days to answer."),
    },
    ("en", True): {
        "good": ("Survived three months on site without a scratch.", "Good grip, even with gloves on.",
                 "The whole crew uses these now.", "Solid, no-nonsense kit.", "Does exactly what the spec sheet says."),
        "mixed": ("Does the job, but the case is flimsy.", "Fine for the workshop; I would not trust it on site.",
                  "Good tool, heavier than the old one."),
        "bad": ("Failed within a month of daily use; sent back for repair.", "Arrived with a damaged housing.",
                "The plastic parts feel cheap for trade use.", "Paperwork for the warranty claim took weeks."),
    },
    ("de", False): {
        "good": ("Verarbeitung ist "
                 "hochwertig.", "In fünf Minuten eingerichtet.", "Hält, was die Beschreibung verspricht.",
                 "Gut verpackt angekommen."),
        "mixed": ("Funktioniert, aber die App ist umständlich.", "Für gelegentlichen Gebrauch okay.",
                  "Preis passt, Verarbeitung könnte besser sein."),
        "bad": ("Nach sechs Wochen defekt, jetzt in Reparatur.", "Mit gesprungenem Gehäuse angekommen.",
                "Die Anleitung ist unbrauchbar.", "Wirkt billig und klappert."),
    },
    ("de", True): {
        "good": ("Übersteht den Baustellenalltag problemlos.", "Liegt gut in der Hand, auch mit Handschuhen.",
                 "Robust und zuverlässig."),
        "mixed": ("Tut, was er soll, der Koffer ist aber "
                  "billig.", "Für die Werkstatt gut, für die Baustelle zu empfindlich."),
        "bad": ("Nach einem Monat im Einsatz defekt.", "Mit beschädigtem Gehäuse geliefert.",
                "Für den Profi-Einsatz zu billig verarbeitet."),
    },
}  # fmt: skip
TITLES = {
    "en": {5: ("Brilliant", "Highly recommended", "Five stars"), 4: ("Very good", "Great value", "Almost perfect"),
           3: ("Average", "Okay for the price"), 2: ("Not convinced", "Could be better"), 1: ("Faulty", "Do not buy")},
    "de": {5: ("Klasse", "Absolute Empfehlung"), 4: ("Sehr gut", "Preis-Leistung stimmt"), 3: ("Durchschnitt",),
           2: ("Nicht überzeugt",), 1: ("Defekt", "Nicht kaufen")},
}  # fmt: skip
NAMES = {
    "en": ("Oliver", "Amelia", "Jack", "Priya", "Mohammed", "Sophie", "Liam", "Chloe", "Daniel", "Grace", "Tom",
           "Aisha"),
    "de": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Emre", "Katharina", "Jan", "Mia"),
}  # fmt: skip
TRADES = ("electrician", "site manager", "joiner", "facility manager", "plumber", "maintenance engineer")


@dataclass(frozen=True)
class ReviewDraft:
    slug: str
    product_handle: str
    locale: str
    rating: int
    author: str
    title: str
    body: str


def _remark(r: Random, product: ProductDraft, rating: int, locale: str) -> str:
    values = {**product.attributes, **(product.skus[0].attributes if product.skus else {})}
    offset = 2 if locale == "de" else 0
    choices = []
    for key, texts in REMARKS.items():
        if key in values and not isinstance(values[key], bool):
            positive, negative = texts[offset], texts[offset + 1]
            text = positive if rating >= 4 else negative if rating <= 2 else r.choice((positive, negative))
            if text:
                choices.append(text.format(**{key: fmt(values[key], locale)}))
    return r.choice(choices) if choices and r.random() < REMARK_SHARE else ""


def _author(r: Random, locale: str, b2b: bool) -> str:
    name = f"{r.choice(NAMES[locale])} {r.choice('ABCDEFGHKLMNPRSTW')}."
    return f"{name} ({r.choice(TRADES)})" if b2b and locale == "en" and r.random() < 0.5 else name


def _review(r: Random, number: int, product: ProductDraft, b2b: bool) -> ReviewDraft:
    locale = "de" if r.random() < GERMAN_SHARE else "en"
    rating = r.choices(range(1, 6), weights=RATING_WEIGHTS)[0]
    mood = "good" if rating >= 4 else "mixed" if rating == 3 else "bad"
    pool = GENERIC[(locale, b2b)][mood]
    sentences = [r.choice(OPENERS[locale][rating]), _remark(r, product, rating, locale), r.choice(pool)]
    body = " ".join(s for s in sentences if s)
    slug = f"review-{number:04d}"
    return ReviewDraft(
        slug, product.handle, locale, rating, _author(r, locale, b2b), r.choice(TITLES[locale][rating]), body
    )


def reviews_count(products: int) -> int:
    return max(REVIEWS_MIN, round(products * REVIEWS_PER_PRODUCT))


def reviews_generate(*, tenant_slug: str, products: list[ProductDraft], b2b: bool) -> list[ReviewDraft]:
    r = Random(f"{DEMO_SEED}:{tenant_slug}:reviews")
    return [_review(r, n, r.choice(products), b2b) for n in range(1, reviews_count(len(products)) + 1)]
