"""Templated product questions and passages for training a small relevance model in tests.

Each made-up product states some of its attributes (weight, colour, battery, material, size) in one passage
each, beside marketing lines. A question asks about one attribute; the passage stating it is relevant, the
others are not. A question about an attribute the product does not state has no relevant passage
(unanswerable). `write_product_set` writes the hetPQA layout (pairs.tsv, corpus.jsonl, queries_all.jsonl).
"""

import json
import random
from dataclasses import dataclass
from pathlib import Path

NOUNS = ("kettle", "backpack", "drill", "lamp", "speaker", "blender", "tent", "scooter", "camera", "toaster")
BRANDS = ("Acme", "Nordwind", "Kestrel", "Lumo", "Baltic", "Orca", "Pico", "Vela", "Tundra", "Zephyr")
COLOURS = ("red", "navy blue", "forest green", "matte black", "white", "yellow", "grey", "orange")
MATERIALS = ("stainless steel", "recycled plastic", "aluminium", "oak wood", "nylon", "ceramic", "glass")
PASSAGES = {
    "weight": (
        "The {p} weighs {kg} kg.",
        "Weight: {kg} kg without accessories.",
        "At only {kg} kg it is easy to lift.",
    ),
    "colour": ("The {p} comes in {colour}.", "Colour: {colour}.", "Available in a {colour} finish."),
    "battery": (
        "The battery lasts up to {hours} hours on one charge.",
        "Battery: {mah} mAh, about {hours} hours of use.",
        "It runs for {hours} hours before the battery needs charging.",
    ),
    "material": ("The {p} is made of {material}.", "Material: {material}.", "Its body is built from {material}."),
    "size": (
        "It measures {a} x {b} x {c} cm.",
        "Dimensions: {a} by {b} by {c} centimetres.",
        "Size: {a} x {b} x {c} cm.",
    ),
}
QUESTIONS = {
    "weight": ("How heavy is the {p}?", "What does it weigh?", "Is the {p} light enough to carry around?"),
    "colour": ("What colour is the {p}?", "Which colours does it come in?", "Is this available in another colour?"),
    "battery": (
        "How long does the battery last?",
        "What is the battery life of the {p}?",
        "How many hours per charge?",
    ),
    "material": ("What is the {p} made of?", "Which material is it?", "Is the body plastic or metal?"),
    "size": ("How big is the {p}?", "What are the dimensions?", "Will it fit in a small cupboard, what size is it?"),
}
MARKETING = (
    "A perfect gift for the whole family.",
    "Loved by thousands of happy customers.",
    "Order today and enjoy free returns.",
    "Designed in Europe with care.",
)


@dataclass(frozen=True)
class HeldOutQuestion:
    question: str
    relevant: str
    irrelevant: tuple[str, ...]


def _product(rng: random.Random, index: int) -> dict:
    noun = rng.choice(NOUNS)
    return {
        "id": f"P{index:05d}",
        "p": f"{rng.choice(BRANDS)} {noun}",
        "kg": f"{rng.uniform(0.3, 12):.1f}",
        "colour": rng.choice(COLOURS),
        "hours": rng.randint(2, 40),
        "mah": rng.choice((1200, 2500, 4000, 5200)),
        "material": rng.choice(MATERIALS),
        "a": rng.randint(5, 80),
        "b": rng.randint(5, 80),
        "c": rng.randint(5, 80),
    }


def _passages(rng: random.Random, product: dict) -> dict[str, str]:
    """Attribute -> passage for the attributes this product states (one left out), plus marketing lines."""
    attributes = list(PASSAGES)
    stated = rng.sample(attributes, len(attributes) - 1)
    texts = {a: rng.choice(PASSAGES[a]).format(**product) for a in stated}
    for n, line in enumerate(rng.sample(MARKETING, 2)):
        texts[f"marketing{n}"] = line
    return texts


def products(seed: int, count: int, questions_per_product: int = 3):
    """Yield (product id, {passage key: text}, [(question, attribute asked)]) for made-up products."""
    rng = random.Random(seed)
    for index in range(count):
        product = _product(rng, seed * 100_000 + index)
        texts = _passages(rng, product)
        asked = rng.sample(list(QUESTIONS), questions_per_product)
        yield product["id"], texts, [(rng.choice(QUESTIONS[a]).format(**product), a) for a in asked]


def write_product_set(folder: Path, *, count: int = 60, seed: int = 1, questions_per_product: int = 3) -> Path:
    """Write a hetPQA-layout set: every question judged against all its product's passages."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus, queries, pairs = [], [], ["qa_pair_id\tquery-id\tcorpus-id\tlabel\tconfidence\tsource"]
    for pid, texts, asked in products(seed, count, questions_per_product):
        ids = {key: f"{pid}-{key}" for key in texts}
        corpus += [
            {"_id": ids[k], "title": "", "text": t, "asin": pid, "source": "attribute"} for k, t in texts.items()
        ]
        for n, (question, attribute) in enumerate(asked):
            qid = f"{pid}-q{n}"
            queries.append({"_id": qid, "text": question, "asin": pid, "has_positive": attribute in texts})
            pairs += [f"{qid}-{k}\t{qid}\t{ids[k]}\t{int(k == attribute)}\thigh\tattribute" for k in texts]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in corpus))
    (folder / "queries_all.jsonl").write_text("".join(json.dumps(row) + "\n" for row in queries))
    (folder / "pairs.tsv").write_text("\n".join(pairs) + "\n")
    return folder


def held_out_questions(seed: int = 999, count: int = 20) -> list[HeldOutQuestion]:
    """Answerable questions about products no training set holds, with their passages."""
    out = []
    for _, texts, asked in products(seed, count):
        for question, attribute in asked:
            if attribute in texts:
                irrelevant = tuple(t for k, t in texts.items() if k != attribute)
                out.append(HeldOutQuestion(question, texts[attribute], irrelevant))
    return out
