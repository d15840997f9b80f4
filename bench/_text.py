"""Text helpers shared by the benchmarks (no Django, no servers: safe to import first)."""

import random
import string


def misspell(text: str, rng: random.Random) -> str:
    """Apply one or two edits (delete, insert, substitute, swap) to letters of the text."""
    chars = list(text)
    for _ in range(rng.choice((1, 2))):
        i = rng.choice([k for k, c in enumerate(chars) if c.isalpha()])
        edit = rng.choice(("delete", "insert", "substitute", "swap"))
        if edit == "delete":
            del chars[i]
        elif edit == "insert":
            chars.insert(i, rng.choice(string.ascii_lowercase))
        elif edit == "substitute":
            chars[i] = rng.choice([c for c in string.ascii_lowercase if c != chars[i].lower()])
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)
