"""Split a source's text into parent sections (300-800 tokens) and embeddable leaves.

The embedding model reads at most 256 word pieces, so a parent longer than LEAF_MAX is split into
leaves that point at it: a small matching leaf brings its parent section as context.
"""

import re
from dataclasses import dataclass, field

from knowledge.embedding import count_tokens

PARENT_MIN = 300
PARENT_MAX = 800
LEAF_MAX = 230  # the model's 256 word pieces, less special tokens and the title prefix
_HEADING = re.compile(r"^#{1,6}\s+\S")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"'(])")


@dataclass(frozen=True)
class Piece:
    text: str
    tokens: int


@dataclass
class ChunkDraft:
    anchor: str
    text: str
    tokens: int
    is_leaf: bool
    parent_anchor: str | None = None
    children: list["ChunkDraft"] = field(default_factory=list)


def _sections(text: str) -> list[str]:
    """Split on headings and blank lines into paragraphs, keeping a heading with what follows it."""
    paragraphs, current = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        if _HEADING.match(line) or not line.strip():
            if current:
                paragraphs.append("\n".join(current).strip())
            current = [line] if line.strip() else []
        else:
            current.append(line)
    if current:
        paragraphs.append("\n".join(current).strip())
    return [p for p in paragraphs if p]


def measure(texts: list[str]) -> list[Piece]:
    """Return the texts as pieces with their token counts (one tokenizer call)."""
    return [Piece(t, n) for t, n in zip(texts, count_tokens(texts), strict=True)]


def _split_long(piece: Piece, limit: int) -> list[Piece]:
    """Split a piece over `limit` tokens at sentence ends, then at words if a sentence is still too long."""
    if piece.tokens <= limit:
        return [piece]
    sentences = measure([s for s in _SENTENCE_END.split(piece.text) if s.strip()])
    if len(sentences) == 1:
        words = piece.text.split()
        half = max(1, len(words) // 2)
        halves = measure([" ".join(words[:half]), " ".join(words[half:])])
        return [p for h in halves if h.text for p in _split_long(h, limit)]
    return _pack([p for s in sentences for p in _split_long(s, limit)], limit, joiner=" ")


def _pack(pieces: list[Piece], limit: int, joiner: str = "\n\n", until: int | None = None) -> list[Piece]:
    """Join consecutive pieces while the joined piece stays within `limit`.

    With `until`, a piece is only extended while it is still shorter than `until`, so a section that
    is already long enough stays a unit of its own.
    """
    packed: list[Piece] = []
    for piece in pieces:
        last = packed[-1] if packed else None
        if last and last.tokens + piece.tokens <= limit and (until is None or last.tokens < until):
            packed[-1] = Piece(last.text + joiner + piece.text, last.tokens + piece.tokens)
        else:
            packed.append(piece)
    return packed


def chunk_text(text: str, prefix: str = "p") -> list[ChunkDraft]:
    """Return parents with their leaves; a parent that fits LEAF_MAX is its own (only) leaf."""
    paragraphs = [p for para in measure(_sections(text)) for p in _split_long(para, PARENT_MAX)]
    parents = _pack(paragraphs, PARENT_MAX, until=PARENT_MIN)
    return [passage_draft(f"{prefix}{i}", parent) for i, parent in enumerate(parents, start=1)]


def passage_draft(anchor: str, piece: Piece) -> ChunkDraft:
    """Return one passage: a leaf when it fits LEAF_MAX, else a parent whose leaves are `<anchor>.<n>`."""
    if piece.tokens <= LEAF_MAX:
        return ChunkDraft(anchor, piece.text, piece.tokens, is_leaf=True)
    leaves = _pack(_split_long_paragraphs(piece.text), LEAF_MAX)
    draft = ChunkDraft(anchor, piece.text, piece.tokens, is_leaf=False)
    draft.children = [
        ChunkDraft(f"{anchor}.{j}", leaf.text, leaf.tokens, is_leaf=True, parent_anchor=anchor)
        for j, leaf in enumerate(leaves, start=1)
    ]
    return draft


def _split_long_paragraphs(text: str) -> list[Piece]:
    return [p for para in measure(_sections(text)) for p in _split_long(para, LEAF_MAX)]
