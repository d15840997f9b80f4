"""The search benchmark's synthetic catalog: vocabulary, a deterministic generator, and a bulk loader.

Everything the loader writes is what the real write path would hold after the worker indexed it: the
catalog rows, the passages of every active product (heading, attributes, description) and one chunk per
active SKU, with the text, title, anchor, token count and hash that knowledge.sources and
knowledge.services.indexing produce (checked on a sample against the real
`_plan` after each build), a vector per chunk in the active space, postings and keyword statistics
written by knowledge.services.postings itself, and `indexed_hash = content_hash` on every source.

Vectors: the real model encodes a text of each passage kind (heading, attributes, description, SKU) per
product line (category, brand, series); each chunk gets its line's vector of its kind plus isotropic
Gaussian noise, re-normalized:
v = (p + sigma * e) / |p + sigma * e|, e ~ N(0, I_384). The cosine to p is then about
1 / sqrt(1 + 384 sigma^2) (0.90 for sigma = 0.025).
"""

import json
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

GENERATOR_VERSION = 2  # bump on any change to the vocabulary or the generator: stored data sets are rebuilt
SEED = 20_260_101
SKUS_PER_PRODUCT = 4  # two colours x two values of the family's second axis
BRANDS_PER_LEAF, SERIES_PER_BRAND = 5, 3  # 144 leaves x 15 lines: 2,160 product lines, 8,640 pool texts
POOL_KINDS = ("head", "attrs", "p", "sku")  # the pool texts of a line: its product's passages, then a SKU's
INACTIVE_SHARE = 0.01  # inactive products have no chunks (their SKUs neither), as after the indexer ran
SOLD_OUT_PRODUCT_SHARE = 0.15  # every SKU at zero in every warehouse: in_stock=true drops these
SOLD_OUT_SKU_SHARE = 0.10  # of the other products' SKUs
EMPTY_BIN_SHARE = 0.30  # a stocked SKU's chance to be at zero in one given warehouse
WAREHOUSES = (("ber", "Berlin", "DE"), ("rtm", "Rotterdam", "NL"), ("lyo", "Lyon", "FR"))
TRADE_DISCOUNT = Decimal("0.88")  # the B2B group's list

COLOURS = ("Black", "White", "Silver", "Graphite", "Midnight Blue", "Sand", "Red", "Olive Green", "Orange", "Yellow")
SERIES = (
    "Apex", "Nomad", "Zenith", "Pulse", "Terra", "Nova", "Orbit", "Vertex", "Summit", "Fusion", "Atlas", "Echo",
    "Vector", "Pioneer", "Matrix", "Horizon", "Stratos", "Quantum", "Ember", "Glacier", "Falcon", "Titan", "Aurora",
    "Cobalt", "Sierra", "Delta", "Prime", "Core", "Edge", "Flex", "Spark", "Drift", "Forge", "Haven", "Crest",
)  # fmt: skip
SYLLABLES_A = ("Vel", "Kai", "Lum", "Bolt", "Nor", "Tek", "Hal", "Mar", "Zor", "Fen", "Gra", "Pra", "Sol", "Ostr")
SYLLABLES_B = ("trix", "ro", "ora", "werk", "dex", "vik", "ion", "ano", "lux", "gard", "mont", "sen", "tec", "ix")
NOTES = (
    "Registered products get an extra year of warranty.",
    "Spare parts are available for at least seven years.",
    "Packaging is plastic-free and fully recyclable.",
    "Ships within two working days from our European warehouses.",
    "Tested to the relevant EN standards by an independent lab.",
    "Free returns within 30 days.",
)


def _choice(r: random.Random, values):
    return values[r.randrange(len(values))]


# Attribute families: (attributes(r) -> dict, second variant axis, compliance category, price range in EUR).
FAMILIES = {
    "computer": (
        lambda r: {"cpu": _choice(r, ("Intel Core Ultra 5 125U", "Intel Core Ultra 7 155H", "AMD Ryzen 7 8845HS",
                                      "AMD Ryzen 5 8640U", "Qualcomm Snapdragon X Plus")),
                   "screen_in": _choice(r, (13.3, 14.0, 15.6, 16.0)), "ram_gb": _choice(r, (8, 16, 32)),
                   "battery_wh": _choice(r, (54, 60, 70, 86))},
        ("storage_gb", (256, 512, 1024, 2048)), "contains_batteries", (399, 2499)),
    "display": (
        lambda r: {"screen_in": _choice(r, (24.0, 27.0, 32.0, 55.0, 65.0)), "panel": _choice(r, ("IPS", "VA", "OLED")),
                   "resolution": _choice(r, ("2560 x 1440", "3840 x 2160", "1920 x 1080")),
                   "refresh_hz": _choice(r, (60, 120, 144, 165))},
        ("stand", ("fixed", "height-adjustable", "wall mount", "swivel")), "none", (129, 1899)),
    "peripheral": (
        lambda r: {"connectivity": _choice(r, ("Bluetooth 5.3", "USB-C", "2.4 GHz wireless", "USB-A")),
                   "weight_g": r.randint(40, 900), "warranty_years": _choice(r, (2, 3))},
        ("capacity", ("small", "standard", "large", "pro")), "none", (9, 249)),
    "audio": (
        lambda r: {"driver_mm": _choice(r, (6, 10, 11, 40, 50)), "battery_h": _choice(r, (8, 10, 24, 30, 40)),
                   "anc": r.random() < 0.6, "bluetooth": _choice(r, ("5.2", "5.3", "5.4"))},
        ("edition", ("standard", "pro", "sport", "travel")), "contains_batteries", (19, 499)),
    "mobile": (
        lambda r: {"screen_in": _choice(r, (6.1, 6.4, 6.7, 1.4)), "battery_mah": _choice(r, (300, 4000, 5000, 5500)),
                   "network": _choice(r, ("5G", "LTE", "Bluetooth only")),
                   "water_resistance": _choice(r, ("IP67", "IP68", "5 ATM"))},
        ("storage_gb", (64, 128, 256, 512)), "contains_batteries", (29, 1299)),
    "appliance": (
        lambda r: {"power_w": _choice(r, (800, 1000, 1350, 1500, 2200)), "capacity_l": _choice(r, (0.6, 1.0, 1.7, 4.5)),
                   "noise_db": r.randint(52, 79), "energy_class": _choice(r, ("A", "B", "C", "D"))},
        ("plug", ("EU", "UK", "CH", "EU long cable")), "none", (29, 899)),
    "cookware": (
        lambda r: {"material": _choice(r, ("stainless steel", "cast iron", "aluminium", "carbon steel")),
                   "induction": r.random() < 0.8, "dishwasher_safe": r.random() < 0.5},
        ("diameter_cm", (16, 20, 24, 28)), "none", (15, 249)),
    "knife": (
        lambda r: {"steel": _choice(r, ("X50CrMoV15", "VG-10 Damascus", "AUS-8")),
                   "hardness_hrc": _choice(r, (56, 58, 60)),
                   "handle": _choice(r, ("olive wood", "POM", "pakkawood"))},
        ("blade_cm", (13, 15, 20, 23)), "age_restricted", (25, 349)),
    "furniture": (
        lambda r: {"material": _choice(r, ("solid oak", "walnut veneer", "powder-coated steel", "beech", "bamboo")),
                   "max_load_kg": _choice(r, (20, 50, 80, 120, 150)), "assembly": _choice(r, ("required", "none"))},
        ("width_cm", (60, 80, 120, 160)), "none", (39, 1499)),
    "lighting": (
        lambda r: {"lumen": _choice(r, (250, 470, 806, 1521, 2500)),
                   "colour_temp_k": _choice(r, (2700, 3000, 4000, 6500)),
                   "dimmable": r.random() < 0.6, "ip_rating": _choice(r, ("IP20", "IP44", "IP65"))},
        ("power_w", (5, 9, 15, 24)), "none", (4, 299)),
    "power_tool": (
        lambda r: {"voltage_v": _choice(r, (12, 18, 36)), "torque_nm": _choice(r, (30, 60, 90, 135)),
                   "brushless": r.random() < 0.6, "weight_kg": round(r.uniform(0.9, 3.8), 1)},
        ("kit", ("bare tool", "1 x 2.0 Ah", "2 x 4.0 Ah", "2 x 5.0 Ah case")), "contains_batteries", (59, 649)),
    "hand_tool": (
        lambda r: {"material": _choice(r, ("chrome vanadium steel", "chrome molybdenum steel",
                                           "hardened carbon steel")),
                   "insulated_vde": r.random() < 0.3, "grip": _choice(r, ("two-component", "PVC", "rubber"))},
        ("length_mm", (125, 160, 180, 250)), "none", (6, 189)),
    "fastener": (
        lambda r: {"material": _choice(r, ("zinc-plated steel", "A2 stainless steel", "A4 stainless steel", "brass")),
                   "thread": _choice(r, ("M4", "M5", "M6", "M8", "M10", "M12")),
                   "drive": _choice(r, ("Torx", "Pozidriv", "hex"))},
        ("pack_size", (50, 100, 200, 500)), "none", (3, 79)),
    "adhesive": (
        lambda r: {"base": _choice(r, ("epoxy", "polyurethane", "cyanoacrylate", "MS polymer")),
                   "cure_time_min": _choice(r, (5, 15, 60, 240)), "temperature_range": "-40 to 120 C"},
        ("volume_ml", (20, 50, 290, 310)), "hazardous", (4, 39)),
    "ppe": (
        lambda r: {"standard": _choice(r, ("EN 388", "EN 166", "EN 352", "EN ISO 20345 S3", "EN ISO 20471")),
                   "material": _choice(r, ("nitrile", "polyurethane", "leather", "polycarbonate", "polyester")),
                   "protection_class": _choice(r, ("1", "2", "3", "S3 SRC"))},
        ("size", ("S", "M", "L", "XL")), "none", (3, 189)),
    "household": (
        lambda r: {"material": _choice(r, ("microfibre", "recycled plastic", "stainless steel", "natural rubber")),
                   "dishwasher_safe": r.random() < 0.5, "refillable": r.random() < 0.4},
        ("pack_size", (1, 2, 3, 5)), "none", (3, 59)),
    "garden": (
        lambda r: {"power_source": _choice(r, ("cordless 36 V", "petrol", "mains electric", "manual")),
                   "weight_kg": round(r.uniform(1.2, 28.0), 1), "waterproof": _choice(r, ("IPX4", "IPX5", "none"))},
        ("size", ("compact", "standard", "large", "XL")), "none", (12, 1199)),
}  # fmt: skip

# Department -> subcategories (name, family, leaf nouns): 12 + 48 + 144 = 204 categories.
DEPARTMENTS = (
    ("Computing", (("Laptops", "computer", ("Ultrabook", "Gaming Laptop", "Convertible Laptop")),
                   ("Monitors", "display", ("Office Monitor", "Gaming Monitor", "Portable Monitor")),
                   ("Storage", "peripheral", ("External SSD", "Portable Hard Drive", "USB Flash Drive")),
                   ("Peripherals", "peripheral", ("Wireless Mouse", "Mechanical Keyboard", "Webcam")))),
    ("Audio and Video", (("Headphones", "audio", ("Over-Ear Headphones", "In-Ear Earbuds", "Sports Earphones")),
                         ("Speakers", "audio", ("Bluetooth Speaker", "Smart Speaker", "Bookshelf Speaker")),
                         ("Televisions", "display", ("OLED TV", "QLED TV", "Projector")),
                         ("Home Cinema", "audio", ("Soundbar", "AV Receiver", "Subwoofer")))),
    ("Phones and Wearables", (("Mobile Phones", "mobile", ("Smartphone", "Rugged Phone", "Feature Phone")),
                              ("Wearables", "mobile", ("Smartwatch", "Fitness Tracker", "Smart Ring")),
                              ("Phone Accessories", "peripheral",
                               ("Phone Case", "Screen Protector", "Wireless Charger")),
                              ("Mobile Power", "peripheral", ("Power Bank", "USB-C Charger", "Charging Cable")))),
    ("Kitchen", (("Coffee", "appliance", ("Espresso Machine", "Bean-to-Cup Coffee Machine", "Coffee Grinder")),
                 ("Small Appliances", "appliance", ("Blender", "Air Fryer", "Electric Kettle")),
                 ("Cookware", "cookware", ("Frying Pan", "Saucepan", "Dutch Oven")),
                 ("Knives", "knife", ("Chef Knife", "Santoku Knife", "Bread Knife")))),
    ("Home and Cleaning", (("Vacuum Cleaners", "appliance", ("Cordless Vacuum", "Robot Vacuum", "Wet Dry Vacuum")),
                           ("Air Care", "appliance", ("Air Purifier", "Dehumidifier", "Humidifier")),
                           ("Cleaning Supplies", "household", ("Microfibre Mop", "Window Squeegee", "Spray Bottle")),
                           ("Laundry", "appliance", ("Steam Iron", "Garment Steamer", "Tumble Dryer")))),
    ("Furniture", (("Office Furniture", "furniture", ("Office Chair", "Standing Desk", "Monitor Arm")),
                   ("Living Room", "furniture", ("Sofa", "Coffee Table", "TV Stand")),
                   ("Bedroom", "furniture", ("Bed Frame", "Mattress", "Wardrobe")),
                   ("Storage Furniture", "furniture", ("Bookcase", "Shoe Rack", "Storage Box")))),
    ("Lighting", (("Indoor Lighting", "lighting", ("Ceiling Light", "Floor Lamp", "Desk Lamp")),
                  ("Smart Lighting", "lighting", ("Smart Bulb", "LED Strip", "Smart Switch")),
                  ("Outdoor Lighting", "lighting", ("Solar Garden Light", "Floodlight", "Wall Lantern")),
                  ("Bulbs", "lighting", ("LED Bulb", "Halogen Bulb", "Fluorescent Tube")))),
    ("Power Tools", (("Drills", "power_tool", ("Cordless Drill", "Hammer Drill", "Impact Driver")),
                     ("Saws", "power_tool", ("Circular Saw", "Jigsaw", "Mitre Saw")),
                     ("Sanders", "power_tool", ("Orbital Sander", "Belt Sander", "Detail Sander")),
                     ("Tool Batteries", "power_tool", ("Battery Pack", "Battery Charger", "Battery Starter Kit")))),
    ("Hand Tools", (("Pliers", "hand_tool", ("Combination Pliers", "Needle-Nose Pliers", "Side Cutters")),
                    ("Screwdrivers", "hand_tool", ("Screwdriver Set", "Precision Screwdriver", "Ratchet Screwdriver")),
                    ("Measuring", "hand_tool", ("Tape Measure", "Spirit Level", "Laser Distance Meter")),
                    ("Wrenches", "hand_tool", ("Adjustable Wrench", "Torque Wrench", "Socket Set")))),
    ("Fasteners and Fixings", (("Screws", "fastener", ("Wood Screw", "Machine Screw", "Drywall Screw")),
                               ("Anchors", "fastener", ("Wall Plug", "Wedge Anchor", "Cavity Anchor")),
                               ("Bolts and Nuts", "fastener", ("Hex Bolt", "Lock Nut", "Threaded Rod")),
                               ("Adhesives", "adhesive", ("Epoxy Adhesive", "Construction Adhesive", "Super Glue")))),
    ("Safety and Workwear", (("Gloves", "ppe", ("Nitrile Gloves", "Cut-Resistant Gloves", "Winter Work Gloves")),
                             ("Eye and Ear Protection", "ppe", ("Safety Glasses", "Ear Defenders", "Ear Plugs")),
                             ("Safety Footwear", "ppe", ("Safety Boot", "Safety Trainer", "Wellington Boot")),
                             ("Workwear", "ppe", ("Work Trousers", "Hi-Vis Vest", "Softshell Jacket")))),
    ("Garden and Outdoor", (("Garden Tools", "garden", ("Lawn Mower", "Hedge Trimmer", "Leaf Blower")),
                            ("Watering", "garden", ("Garden Hose", "Sprinkler", "Water Butt")),
                            ("Outdoor Living", "garden", ("Gas Barbecue", "Garden Parasol", "Patio Heater")),
                            ("Camping", "garden", ("Tent", "Sleeping Bag", "Camping Stove")))),
)  # fmt: skip

PITCHES = (
    "The {brand} {series} {model} is a {adjective} {noun} for {use}.",
    "Built for {use}, the {series} {model} {noun} from {brand} is {adjective} and easy to maintain.",
    "A {adjective} {noun} from the {brand} {series} range, made for {use}.",
)
ADJECTIVES = ("compact", "robust", "lightweight", "quiet", "professional", "energy-efficient", "versatile", "durable")
USES = ("everyday use", "the workshop", "small flats", "busy kitchens", "job sites", "home offices", "travel", "trade")


def plural(noun: str) -> str:
    if noun.endswith("Knife"):
        return noun[:-5] + "Knives"
    if noun.endswith(("ss", "sh", "ch", "x")):
        return noun + "es"
    return noun if noun.endswith("s") else noun + "s"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Leaf:
    index: int
    name: str
    slug: str
    noun: str
    family: str
    path: str  # "Department › Subcategory › Leaf", as knowledge.sources._category_path renders it
    parent_slug: str
    brands: tuple[str, ...]
    series: tuple[tuple[str, ...], ...]  # per brand


def _brand_names() -> list[str]:
    names = [a + b for a in SYLLABLES_A for b in SYLLABLES_B]
    random.Random(SEED).shuffle(names)
    return names


def leaves() -> list[Leaf]:
    """Return the 144 leaf categories with their brands and series (the same on every run)."""
    brands, out = _brand_names(), []
    for d_index, (department, subs) in enumerate(DEPARTMENTS):
        pool = brands[d_index * 10 : d_index * 10 + 10]  # each department has its own ten brands
        for sub, family, nouns in subs:
            for noun in nouns:
                r = random.Random(f"{SEED}:{noun}")
                leaf_brands = tuple(r.sample(pool, BRANDS_PER_LEAF))
                series = tuple(tuple(r.sample(SERIES, SERIES_PER_BRAND)) for _ in leaf_brands)
                name = plural(noun)
                out.append(
                    Leaf(len(out), name, slugify(name), noun, family, f"{department} › {sub} › {name}",
                         slugify(sub), leaf_brands, series)
                )  # fmt: skip
    return out


def categories() -> list[tuple[str, str, str | None]]:
    """Return (name, slug, parent slug) for every category, parents first."""
    rows = []
    for department, subs in DEPARTMENTS:
        rows.append((department, slugify(department), None))
        for sub, _, _ in subs:
            rows.append((sub, slugify(sub), slugify(department)))
    rows += [(leaf.name, leaf.slug, leaf.parent_slug) for leaf in leaves()]
    return rows


def leaf_weights(all_leaves: list[Leaf]) -> list[float]:
    """Zipf-like category sizes (1/rank^0.3 over a fixed shuffle): the largest leaf holds 2.2 %, the smallest 0.5 %."""
    ranks = list(range(1, len(all_leaves) + 1))
    random.Random(SEED + 1).shuffle(ranks)
    return [1 / rank**0.3 for rank in ranks]


@dataclass
class SkuDraft:
    code: str
    attributes: dict
    retail: Decimal
    margin_rate: Decimal
    conversion_rate: Decimal
    stock: tuple[int, ...]  # per warehouse


@dataclass
class ProductDraft:
    number: int
    leaf: Leaf
    line: int  # (leaf, brand, series): the pool vector its chunks share
    handle: str
    title: str
    brand: str
    description: str
    attributes: dict
    compliance: str
    is_active: bool
    skus: list[SkuDraft] = field(default_factory=list)


def product_passages(p: ProductDraft) -> list[tuple[str, str, int]]:
    """Return the product's passages (anchor, text, tokens), as knowledge.sources has them."""
    from knowledge.product_passages import ProductText, product_drafts

    drafts = product_drafts(ProductText(p.title, p.brand, p.leaf.path, p.attributes, p.description))
    if not all(d.is_leaf for d in drafts):
        raise ValueError(f"a generated product passage would not be one leaf: {p.title}")
    return [(d.anchor, d.text, d.tokens) for d in drafts]


def pool_kind(anchor: str) -> int:
    """The pool text a product passage's vector is drawn from: its heading, attributes or description."""
    if anchor == "head":
        return POOL_KINDS.index("head")
    return POOL_KINDS.index("attrs" if anchor.startswith("attrs") else "p")


def sku_title_text(p: ProductDraft, s: SkuDraft) -> tuple[str, str]:
    from knowledge.product_passages import attribute_lines

    variant = ", ".join(f"{k}: {v}" for k, v in sorted(s.attributes.items()))
    lines = attribute_lines({**p.attributes, **s.attributes})
    text = "\n".join([f"SKU {s.code}\nBrand: {p.brand}\nCategory: {p.leaf.path}", *lines])
    return f"{p.title} ({variant})", text


class Generator:
    """Products of one tenant as plain data: product `n` is the same on every run and machine."""

    def __init__(self, tenant_no: int):
        self.tenant_no = tenant_no
        self.leaves = leaves()
        self.cum = list(np.cumsum(leaf_weights(self.leaves)))

    def product(self, n: int, line: int | None = None) -> ProductDraft:
        r = random.Random(f"{SEED}:{self.tenant_no}:{n}")
        if line is None:
            x = r.random() * self.cum[-1]
            leaf = self.leaves[min(int(np.searchsorted(self.cum, x)), len(self.leaves) - 1)]
            b, s = r.randrange(BRANDS_PER_LEAF), r.randrange(SERIES_PER_BRAND)
        else:
            leaf = self.leaves[line // (BRANDS_PER_LEAF * SERIES_PER_BRAND)]
            b, s = divmod(line % (BRANDS_PER_LEAF * SERIES_PER_BRAND), SERIES_PER_BRAND)
        brand, series = leaf.brands[b], leaf.series[b][s]
        attrs_of, (axis, axis_values), compliance, (low, high) = FAMILIES[leaf.family]
        model = f"{_choice(r, 'XSLMPRTV')}{r.randint(1, 99) * 10}"
        title = f"{brand} {series} {model} {leaf.noun}"
        attributes = attrs_of(r)
        pitch = _choice(r, PITCHES).format(
            brand=brand, series=series, model=model, noun=leaf.noun.lower(), adjective=_choice(r, ADJECTIVES),
            use=_choice(r, USES),
        )  # fmt: skip
        description = f"{pitch} {_choice(r, NOTES)}"
        price = Decimal(str(round(low * (high / low) ** r.random(), 2)))
        product = ProductDraft(
            number=n, leaf=leaf, line=(leaf.index * BRANDS_PER_LEAF + b) * SERIES_PER_BRAND + s,
            handle=f"{slugify(title)}-{n}", title=title, brand=brand, description=description, attributes=attributes,
            compliance=compliance, is_active=r.random() >= INACTIVE_SHARE,
        )  # fmt: skip
        sold_out = r.random() < SOLD_OUT_PRODUCT_SHARE
        colours = r.sample(COLOURS, 2)
        values = sorted(r.sample(range(len(axis_values)), 2))
        prefix = f"{brand[:3].upper()}-{leaf.index:03d}-{n:06d}"
        for colour in colours:
            for step, v in enumerate(values):
                stock = (0,) * len(WAREHOUSES)
                if not sold_out and r.random() >= SOLD_OUT_SKU_SHARE:
                    stock = tuple(0 if r.random() < EMPTY_BIN_SHARE else r.randint(1, 250) for _ in WAREHOUSES)
                product.skus.append(
                    SkuDraft(
                        code=f"{prefix}-{colour.replace(' ', '')[:3].upper()}{v}",
                        attributes={"colour": colour, axis: axis_values[v]},
                        retail=(price * (1 + Decimal("0.08") * step + Decimal("0.02") * v)).quantize(Decimal("0.01")),
                        margin_rate=Decimal(str(round(r.uniform(0.04, 0.42), 4))),
                        conversion_rate=Decimal(str(round(r.uniform(0.004, 0.09), 4))),
                        stock=stock,
                    )
                )
        return product

    def pool_texts(self) -> list[str]:
        """Per line, the texts the indexer would embed for a product's passages of each kind and for a SKU."""
        texts = []
        for line in range(len(self.leaves) * BRANDS_PER_LEAF * SERIES_PER_BRAND):
            p = self.product(10**7 + line, line=line)
            kinds = {}
            for anchor, text, _ in product_passages(p):
                kinds.setdefault(pool_kind(anchor), f"{p.title}\n{text}")
            title, text = sku_title_text(p, p.skus[0])
            texts += [kinds.get(i, p.title) for i in range(len(POOL_KINDS) - 1)] + [f"{title}\n{text}"]
        return texts


def noisy_vectors(pool: np.ndarray, index: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Return unit vectors pool[index] + sigma * N(0, I), re-normalized (float32)."""
    vectors = pool[index] + np.float32(sigma) * rng.standard_normal((len(index), pool.shape[1]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def vector_copy_payload(chunk_ids: np.ndarray, space_id: int, vectors: np.ndarray) -> bytes:
    """Return a binary COPY stream of (chunk_id, space_id, embedding) rows in pgvector's binary format."""
    dims = vectors.shape[1]
    row = np.dtype([
        ("fields", ">i2"), ("len1", ">i4"), ("chunk", ">i8"), ("len2", ">i4"), ("space", ">i8"),
        ("len3", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (dims,)),
    ])  # fmt: skip
    rows = np.zeros(len(chunk_ids), dtype=row)
    rows["fields"], rows["len1"], rows["len2"], rows["len3"] = 3, 8, 8, 4 + 4 * dims
    rows["chunk"], rows["space"], rows["dim"], rows["vec"] = chunk_ids, space_id, dims, vectors
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True)


def dumps(attributes: dict) -> str:
    return json.dumps(attributes)


# Loading ------------------------------------------------------------------------------------------------------

LOAD_BATCH = 5_000  # products per generate / tokenize / COPY round
VECTOR_BATCH = 50_000  # vectors per binary COPY (about 78 MB)
POSTINGS_BATCH = 10_000  # chunks per postings_add call, as the postings migration's backfill
BULK_TABLES = (
    "catalog_product", "catalog_sku", "catalog_price", "catalog_stocklevel",
    "knowledge_chunk", "knowledge_chunkembedding", "knowledge_posting",
)  # fmt: skip
EXPLICIT_ID_TABLES = BULK_TABLES[:5]  # ids assigned here; the sequences are moved past them afterwards


@dataclass
class TenantSpec:
    no: int
    slug: str
    name: str
    products: int
    warehouses: int
    trade_list: bool  # a B2B customer group with its own price list


@dataclass
class Loaded:
    """Ids of the rows written, and what each chunk's vector is drawn from."""

    next_id: dict[str, int]
    chunk_ids: list[np.ndarray] = field(default_factory=list)
    pool_index: list[np.ndarray] = field(default_factory=list)


def drop_secondary_indexes(cursor) -> list[str]:
    """Drop the unique constraints and indexes (not primary keys) of the bulk tables; return the DDL to restore them.

    Kept: the postings' chunk_id index (postings_add's NOT EXISTS probes it; appends stay in key order).
    The space's HNSW index is dropped too and rebuilt separately, with the spaces service's own DDL.
    """
    restore = []
    for table in BULK_TABLES:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        for name, definition in cursor.fetchall():
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            [table],
        )
        for name, definition in cursor.fetchall():
            if table == "knowledge_posting" and definition.endswith("(chunk_id)"):
                continue
            if " USING hnsw " not in definition:
                restore.append(definition)
            cursor.execute(f"DROP INDEX {name}")
    return restore


def next_ids(cursor) -> dict[str, int]:
    ids = {}
    for table in EXPLICIT_ID_TABLES:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        ids[table] = cursor.fetchone()[0]
    return ids


def _take(loaded: Loaded, table: str) -> int:
    value = loaded.next_id[table]
    loaded.next_id[table] = value + 1
    return value


def _copy(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


PRODUCT_COLUMNS = (
    "id, tenant_id, category_id, handle, title, description, brand, attributes, compliance_category, is_active, "
    "version, index_nonce, updated_at, indexed_at, index_error, index_attempts"
)
SKU_COLUMNS = (
    "id, tenant_id, product_id, code, attributes, is_active, margin_rate, conversion_rate, version, index_nonce, "
    "updated_at, indexed_at, index_error, index_attempts"
)
CHUNK_COLUMNS = (
    "id, tenant_id, source_kind, source_id, source_key, source_version, anchor, ordinal, is_leaf, locale, title, "
    "text, token_count, content_hash, product_id, category_id, created_at"
)


def load_batch(cursor, loaded: Loaded, tenant, drafts: list[ProductDraft], ctx: dict) -> None:
    """Write one batch of products with their SKUs, prices, stock and chunks (COPY)."""
    from knowledge.chunking import LEAF_MAX
    from knowledge.embedding import count_tokens
    from knowledge.services.indexing import chunk_content_hash

    now, categories, lists, warehouses = ctx["now"], ctx["categories"], ctx["lists"], ctx["warehouses"]
    active = [p for p in drafts if p.is_active]
    sku_texts = [sku_title_text(p, s) for p in active for s in p.skus]
    sku_tokens = iter(count_tokens([t for _, t in sku_texts]))
    products, skus, prices, stock, chunks, chunk_ids, pool = [], [], [], [], [], [], []
    sku_iter = iter(sku_texts)
    for p in drafts:
        category_id = categories[p.leaf.slug]
        pid = _take(loaded, "catalog_product")
        products.append((
            pid, tenant.pk, category_id, p.handle, p.title, p.description, p.brand, dumps(p.attributes), p.compliance,
            p.is_active, 1, 0, now, now, "", 0,
        ))  # fmt: skip
        for ordinal, (anchor, text, tokens) in enumerate(product_passages(p) if p.is_active else []):
            cid = _take(loaded, "knowledge_chunk")
            chunks.append((
                cid, tenant.pk, "product", pid, p.handle, 1, anchor, ordinal, True, "en", p.title[:300], text, tokens,
                chunk_content_hash(p.title, text), pid, category_id, now,
            ))  # fmt: skip
            chunk_ids.append(cid)
            pool.append(len(POOL_KINDS) * p.line + pool_kind(anchor))
        for s in p.skus:
            sid = _take(loaded, "catalog_sku")
            skus.append((
                sid, tenant.pk, pid, s.code, dumps(s.attributes), True, s.margin_rate, s.conversion_rate, 1, 0,
                now, now, "", 0,
            ))  # fmt: skip
            prices.append((_take(loaded, "catalog_price"), lists["retail"], sid, s.retail))
            if "trade" in lists:
                trade = (s.retail * TRADE_DISCOUNT).quantize(Decimal("0.01"))
                prices.append((_take(loaded, "catalog_price"), lists["trade"], sid, trade))
            for warehouse_id, quantity in zip(warehouses, s.stock, strict=False):
                stock.append((_take(loaded, "catalog_stocklevel"), sid, warehouse_id, quantity, now))
            if p.is_active:
                title, text = next(sku_iter)
                tokens = next(sku_tokens)
                if tokens > LEAF_MAX:
                    raise ValueError(f"generated SKU text of {tokens} tokens would not be one leaf: {s.code}")
                cid = _take(loaded, "knowledge_chunk")
                chunks.append((
                    cid, tenant.pk, "sku", sid, s.code, 1, "spec", 0, True, "en", title[:300], text, tokens,
                    chunk_content_hash(title, text), pid, category_id, now,
                ))  # fmt: skip
                chunk_ids.append(cid)
                pool.append(len(POOL_KINDS) * p.line + len(POOL_KINDS) - 1)
    _copy(cursor, "catalog_product", PRODUCT_COLUMNS, products)
    _copy(cursor, "catalog_sku", SKU_COLUMNS, skus)
    _copy(cursor, "catalog_price", "id, price_list_id, sku_id, amount", prices)
    _copy(cursor, "catalog_stocklevel", "id, sku_id, warehouse_id, quantity, updated_at", stock)
    _copy(cursor, "knowledge_chunk", CHUNK_COLUMNS, chunks)
    loaded.chunk_ids.append(np.array(chunk_ids, dtype=np.int64))
    loaded.pool_index.append(np.array(pool, dtype=np.int32))


def create_tenant(spec: TenantSpec) -> dict:
    """Create the tenant's small tables with the ORM: categories, customer groups, price lists, warehouses."""
    from catalog.models import Category, CustomerGroup, PriceList, Tenant, Warehouse

    tenant = Tenant.objects.create(slug=spec.slug, name=spec.name, default_locale="en", locales=["en"])
    by_slug = {}
    for name, slug, parent in categories():
        by_slug[slug] = Category.objects.create(tenant=tenant, name=name, slug=slug, parent=by_slug.get(parent))
    lists = {"retail": PriceList.objects.create(tenant=tenant, code="retail-eur", name="Retail", currency="EUR").pk}
    if spec.trade_list:
        trade = CustomerGroup.objects.create(tenant=tenant, code="trade", name="Trade customers")
        lists["trade"] = PriceList.objects.create(
            tenant=tenant, code="trade-eur", name="Trade", currency="EUR", customer_group=trade
        ).pk
        education = CustomerGroup.objects.create(
            tenant=tenant, code="education", name="Education portal", all_categories=False
        )
        education.categories.set([by_slug[slugify(d)] for d, _ in DEPARTMENTS[:3]])  # computing, audio, phones
    warehouses = [
        Warehouse.objects.create(tenant=tenant, code=code, name=name, country=country).pk
        for code, name, country in WAREHOUSES[: spec.warehouses]
    ]
    return {
        "tenant": tenant,
        "categories": {s: c.pk for s, c in by_slug.items()},
        "lists": lists,
        "warehouses": warehouses,
    }


def encode_pool(path, progress, only: np.ndarray | None = None) -> np.ndarray:
    """Encode the pool texts with the active space's model (cached in `path`, shared by the sizes' folders).

    With `only` (the pool rows a small data set uses), encode just those rows, leave the others zero and
    cache nothing.
    """
    from knowledge import embedding
    from knowledge.services.spaces import active_space

    cached = [path, *sorted(path.parent.parent.glob(f"search-*/{path.name}"))]  # another size's pool
    for candidate in cached:
        if candidate.exists():
            pool = np.load(candidate)
            np.save(path, pool)
            return pool
    texts = Generator(0).pool_texts()
    rows = np.arange(len(texts)) if only is None else np.unique(only)
    model = embedding.model_path_for(active_space())
    step = 256
    parts = [
        embedding.encode(model, [texts[i] for i in rows[start : start + step]])
        for start in progress(range(0, len(rows), step), desc="pool encode")
    ]
    encoded = np.concatenate(parts).astype(np.float32)
    pool = np.zeros((len(texts), encoded.shape[1]), dtype=np.float32)
    pool[rows] = encoded
    if only is None:
        np.save(path, pool)
    return pool


def load_vectors(cursor, loaded: Loaded, pool: np.ndarray, space_id: int, sigma: float, progress) -> float:
    """COPY one noisy pool vector per chunk; return the mean cosine between chunk vectors and their pool vectors."""
    ids, index = np.concatenate(loaded.chunk_ids), np.concatenate(loaded.pool_index)
    rng, cosines = np.random.default_rng(SEED), []
    for start in progress(range(0, len(ids), VECTOR_BATCH), desc="vectors", unit="batch"):
        part = index[start : start + VECTOR_BATCH]
        vectors = noisy_vectors(pool, part, sigma, rng)
        cosines.append(np.einsum("ij,ij->i", vectors, pool[part]))
        with cursor.copy(
            "COPY knowledge_chunkembedding (chunk_id, space_id, embedding) FROM STDIN WITH (FORMAT binary)"
        ) as copy:
            copy.write(vector_copy_payload(ids[start : start + VECTOR_BATCH], space_id, vectors))
    return float(np.concatenate(cosines).mean())


def load_postings(chunk_ids: np.ndarray, progress) -> None:
    """Fill postings and keyword statistics with knowledge.services.postings itself, in id order."""
    from knowledge.services.postings import postings_add

    ids = np.sort(chunk_ids).tolist()
    for start in progress(range(0, len(ids), POSTINGS_BATCH), desc="postings", unit="batch"):
        postings_add(ids[start : start + POSTINGS_BATCH])


def verify_sample(tenant_ids: list[int], sample: int = 200) -> list[str]:
    """Compare stored chunks of a random sample of sources with what the real indexer plans for them now.

    Return the differences found (none when the data set is what the indexer would have written).
    """
    from catalog.models import SKU, Product
    from core.indexable import PENDING
    from knowledge.models import Chunk, KeywordStats
    from knowledge.services.indexing import _plan
    from knowledge.sources import SOURCES

    fields = ("tenant_id", "source_key", "source_version", "anchor", "ordinal", "is_leaf", "locale", "title", "text",
              "token_count", "content_hash", "product_id", "category_id")  # fmt: skip
    rng, problems = random.Random(SEED), []
    for model, kind in ((Product, "product"), (SKU, "sku")):
        pending = model.objects.filter(PENDING).count()
        if pending:
            problems.append(f"{pending} {kind} rows are pending indexing")
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        ids = rng.sample(range(1, last + 1), min(sample, last))
        for source in SOURCES[kind].queryset().filter(pk__in=ids):
            planned = [tuple(getattr(c, f) for f in fields) for c in _plan(SOURCES[kind], source).rows]
            stored = list(
                Chunk.objects.filter(source_kind=kind, source_id=source.pk, retired_at__isnull=True)
                .order_by("ordinal")
                .values_list(*fields)
            )
            if planned != stored:
                problems.append(
                    f"{kind} {source.pk}: the indexer now plans\n  {planned}\nbut the data set holds\n  {stored}"
                )
                break
    for tenant_id in tenant_ids:
        live = Chunk.objects.filter(tenant_id=tenant_id, is_leaf=True, retired_at__isnull=True).count()
        stats = KeywordStats.objects.filter(tenant_id=tenant_id).values_list("chunks", flat=True).first()
        if stats != live:
            problems.append(f"tenant {tenant_id}: keyword stats count {stats} chunks, {live} are live")
    return problems
