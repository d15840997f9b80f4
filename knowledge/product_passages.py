"""Split a product's text into passages a shopper would recognise, each with a stable anchor.

- `head`: the heading, so the product still matches by name: the brand and category path under the title;
- `attrs` (`attrs-2`, ... when long): the attributes, one "Name: value unit" line each; attributes whose
  keys share a prefix (`display_size_in`, `display_hz`) form a group of their own, `attrs-display`;
- `p1`, `p2`, ...: the description's paragraphs (a very short one joins its neighbour);
- `bullet-1`, `bullet-2`, ...: one per list item of the description (`-`, `*`, `•`, `1.`, `2)`).

An attribute passage never holds description text. A translation's passages carry the same anchors behind
its locale (`de-head`, `de-p1`), since a citation ID names no locale. Each chunk's embedded text is its title
(the product's) and its text, so a lone bullet still stands for its product in retrieval, while a citation
shows exactly the passage.
"""

import math
import re
from dataclasses import dataclass

from knowledge.chunking import LEAF_MAX, ChunkDraft, Piece, measure, passage_draft

HEAD = "head"
ATTRS = "attrs"
ATTR_LINES_MAX = 8  # attribute lines a passage holds at most: a spec box read at a glance
GROUP_MIN = 2  # attributes sharing a key prefix that make a group of their own
SHORT_PARAGRAPH = 6  # tokens under which a paragraph ("Key features:", "Made in Germany.") joins a neighbour
GROUP_SLUG_MAX = 24  # characters of a group's name in its anchor (anchors hold at most 40)
_KEY_PARTS = re.compile(r"[_.]")
_BULLET = re.compile(r"^\s*(?:[-*•‣▪◦–]|\d{1,3}[.)])\s+(?=\S)")
_SYMBOL = re.compile(r"^\s*[-*•‣▪◦–]\s+")  # a bullet's symbol is not its text; a step's number is
_HEADING = re.compile(r"^#{1,6}\s+\S")
# A key's last part naming the unit of a number (`weight_g`, `torque_nm`): shown after the value instead.
UNITS = {
    "mm": "mm", "cm": "cm", "m": "m", "km": "km", "in": "in", "g": "g", "kg": "kg", "l": "l", "ml": "ml",
    "w": "W", "kw": "kW", "v": "V", "ah": "Ah", "mah": "mAh", "wh": "Wh", "h": "h", "min": "min", "s": "s",
    "days": "days", "hz": "Hz", "db": "dB", "nm": "Nm", "n": "N", "kn": "kN", "mpa": "MPa", "bar": "bar",
    "rpm": "rpm", "bpm": "bpm", "gb": "GB", "tb": "TB", "mp": "MP", "aw": "AW", "c": "°C", "lm": "lm",
}  # fmt: skip


@dataclass(frozen=True)
class ProductText:
    """What a product (or one translation of it) says, as the index reads it."""

    title: str
    brand: str
    category_path: str
    attributes: dict
    description: str


def product_drafts(text: ProductText, prefix: str = "") -> list[ChunkDraft]:
    """Return the product's passages in reading order: heading, attribute groups, then the description."""
    # The title is every chunk's title, which its embedded text begins with: the heading's own text adds the
    # brand and category (a title repeated there would count twice for the keyword leg).
    labels = (("Brand", text.brand), ("Category", text.category_path))
    head = "\n".join(f"{label}: {value}" for label, value in labels if value) or text.title
    pieces = [(HEAD, piece) for piece in measure([head])]
    pieces += attribute_pieces(text.attributes) + description_pieces(text.description)
    return [passage_draft(f"{prefix}{anchor}", piece) for anchor, piece in pieces]


# Attributes ----------------------------------------------------------------------------------------------


def attribute_line(key, value) -> str | None:
    """Return "Name: value unit" ("Weight: 250 g" for `weight_g: 250`), or None for an empty value."""
    shown = _value(value)
    if not shown:
        return None
    parts = [p for p in _KEY_PARTS.split(str(key)) if p]
    unit = ""
    if _is_number(value) and len(parts) > 1:
        unit, parts = _unit(parts)
    name = " ".join(parts) or str(key)
    return f"{name[:1].upper()}{name[1:]}: {shown}{f' {unit}' if unit else ''}"


def attribute_lines(attributes: dict) -> list[str]:
    """Every attribute's line, ordered by key."""
    lines = (attribute_line(k, v) for k, v in sorted(attributes.items(), key=lambda kv: str(kv[0])))
    return [line for line in lines if line]


def _unit(parts: list[str]) -> tuple[str, list[str]]:
    """Take the unit off a key's parts: ["accuracy", "mm", "per", "m"] -> ("mm/m", ["accuracy"])."""
    last = parts[-1].lower()
    if len(parts) > 3 and parts[-2].lower() == "per" and parts[-3].lower() in UNITS and last in UNITS:
        return f"{UNITS[parts[-3].lower()]}/{UNITS[last]}", parts[:-3]
    if last in UNITS:
        return UNITS[last], parts[:-1]
    return "", parts


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(shown for shown in map(_value, value) if shown)
    if isinstance(value, dict):
        return "; ".join(f"{k} {shown}" for k, v in value.items() if (shown := _value(v)))
    return " ".join(str(value).split())  # one line, whatever the value held


def _group(key) -> str:
    """The slug of a key's prefix ("display" for `display_size_in`), or "" for a key of one part."""
    parts = [p for p in _KEY_PARTS.split(str(key)) if p]
    if len(parts) < 2:
        return ""
    slug = re.sub(r"\W+", "", parts[0].lower())[:GROUP_SLUG_MAX]
    return slug if slug[:1].isalpha() else ""  # `attrs-2` is the second part of `attrs`, never a group


def attribute_pieces(attributes: dict) -> list[tuple[str, Piece]]:
    """Return (anchor, piece) per attribute passage: the ungrouped attributes first, then each group."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for key, value in sorted(attributes.items(), key=lambda kv: str(kv[0])):
        line = attribute_line(key, value)
        if line:
            groups.setdefault(_group(key), []).append((str(key), line))
    named = {slug: lines for slug, lines in groups.items() if slug and len(lines) >= GROUP_MIN}
    rest = sorted(kl for slug, lines in groups.items() if slug not in named for kl in lines)
    out = _numbered(ATTRS, _split_lines(measure([line for _, line in rest])))
    for slug, lines in sorted(named.items()):
        out += _numbered(f"{ATTRS}-{slug}", _split_lines(measure([line for _, line in lines])))
    return out


def _split_lines(lines: list[Piece]) -> list[Piece]:
    """Cut attribute lines into passages of about equal size, each within ATTR_LINES_MAX lines and LEAF_MAX."""
    if not lines:
        return []
    per = math.ceil(len(lines) / math.ceil(len(lines) / ATTR_LINES_MAX))
    passages, current = [], []
    for line in lines:
        if current and (len(current) == per or sum(p.tokens for p in current) + line.tokens > LEAF_MAX):
            passages.append(current)
            current = []
        current.append(line)
    passages.append(current)
    return [Piece("\n".join(p.text for p in part), sum(p.tokens for p in part)) for part in passages]


def _numbered(anchor: str, pieces: list[Piece]) -> list[tuple[str, Piece]]:
    return [(anchor if i == 1 else f"{anchor}-{i}", piece) for i, piece in enumerate(pieces, start=1)]


# Description ---------------------------------------------------------------------------------------------


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Return ("p" | "bullet", lines) blocks: a blank line ends a block, a list item starts one, and a
    line after a list item continues it (as in Markdown) unless it is a heading."""
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            current = None
            continue
        if _BULLET.match(line):
            current = ("bullet", [_SYMBOL.sub("", line).strip()])
            blocks.append(current)
        elif current is None or _HEADING.match(line):
            current = ("p", [line.strip()])
            blocks.append(current)
        else:
            current[1].append(line.strip())
    return blocks


def description_pieces(text: str) -> list[tuple[str, Piece]]:
    """Return (anchor, piece) per paragraph (`p<n>`) and list item (`bullet-<n>`), in reading order."""
    blocks = _blocks(text)
    pieces = measure(["\n".join(lines) for _, lines in blocks])
    merged = _merge_short([(kind, piece) for (kind, _), piece in zip(blocks, pieces, strict=True)])
    counts = {"p": 0, "bullet": 0}
    out = []
    for kind, piece in merged:
        counts[kind] += 1
        out.append((f"p{counts['p']}" if kind == "p" else f"bullet-{counts['bullet']}", piece))
    return out


def _merge_short(blocks: list[tuple[str, Piece]]) -> list[tuple[str, Piece]]:
    """Join a paragraph under SHORT_PARAGRAPH tokens to the paragraph after it, else to the one before it;
    one between list items (or alone) stays as it is."""
    out: list[tuple[str, Piece]] = []
    waiting: Piece | None = None
    for kind, piece in blocks:
        if waiting is not None and kind == "p":
            piece, waiting = _join(waiting, piece), None
        elif waiting is not None:
            out, waiting = _settle(out, waiting), None
        if kind == "p" and piece.tokens < SHORT_PARAGRAPH:
            waiting = piece
        else:
            out.append((kind, piece))
    return _settle(out, waiting) if waiting is not None else out


def _settle(out: list[tuple[str, Piece]], short: Piece) -> list[tuple[str, Piece]]:
    """Add a short paragraph that no paragraph follows: to the paragraph just before it, else on its own."""
    if out and out[-1][0] == "p":
        return [*out[:-1], ("p", _join(out[-1][1], short))]
    return [*out, ("p", short)]


def _join(first: Piece, second: Piece) -> Piece:
    return Piece(f"{first.text}\n\n{second.text}", first.tokens + second.tokens)
