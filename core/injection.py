"""Prompt-injection screens: the patterns a question is refused for, and the passage screen.

Passages are data, never instructions. Documents and reviews come from editors and customers: hidden text
(HTML comments, `display:none` elements, zero-width characters) is removed, and every sentence that reads as
an instruction to the assistant (the question patterns and a few more that only make sense in a passage) is
dropped, so a planted "ignore previous instructions" can neither be quoted nor obeyed.
"""

import re
import unicodedata

# A question that matches one of these tries to change the assistant's instructions (refused).
INJECTION_PATTERNS = (
    r"\b(ignore|disregard|forget)\b.{0,40}\b(previous|prior|above|earlier|all)\b.{0,20}\b(instructions?|rules|prompts?)",
    r"\b(system prompt|developer message|jailbreak|do anything now|DAN mode)\b",
    r"\byou are now\b.{0,60}\b(assistant|ai|model|bot|unfiltered|unrestricted)\b",
    r"\b(reveal|print|show|repeat)\b.{0,30}\b(your|the)\b.{0,20}\b(instructions|prompt|rules)\b",
    r"</?(system|assistant|instructions?)>",
    r"\bignoriere\b.{0,40}\b(anweisungen|regeln)\b",
)

HIDDEN = (
    re.compile(r"<!--.*?-->", re.DOTALL),
    re.compile(r"<(\w+)[^>]*display\s*:\s*none[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE),
    re.compile(r"\[\[(assistant|system|user)\]\].*?\[\[/\1\]\]", re.DOTALL | re.IGNORECASE),
    re.compile(r"<[^>]{1,200}>"),  # any other tag: the text stays, the markup goes
)
PASSAGE_INJECTION = (
    *INJECTION_PATTERNS,
    r"\b(system override|jailbreak|unrestricted ai|role-?play|pretend (you are|to be))\b",
    r"\b(api[ _-]?key|llm_api_key|pii|⟦pii)\b",
    r"\b(every|all|other) (customers?'?|tenants?'?)\b.{0,30}\b(orders?|e-?mail|addresses)\b",
    r"\b(e-?mail addresses|orders?) of (customers|every|all)\b",
    r"\b(append|add)\b.{0,60}\bto every answer\b",
    r"\bverifier is disabled\b|\banswer without citations\b|\bsystem_prompt\b",
    r"\b(decode and follow|as the administrator)\b",
    r"\b(hidden|secret) (prompt|prices?)\b",
    r"\b(the|your) (system|hidden) prompt\b",
    r"[A-Za-z0-9+/]{32,}={0,2}",  # base64 payloads
    # A sentence that opens by telling the reader what to answer addresses the assistant, not a shopper
    # (manuals' own imperatives, "Always unplug …", "Charge for 2 hours", are not in this list).
    r"^\W*(reply|respond|answer|say|state|list|output|print|tell the user|new rule)\b",
)
_injection = [re.compile(p, re.IGNORECASE | re.DOTALL | re.MULTILINE) for p in PASSAGE_INJECTION]
_sentence_end = re.compile(r"(?<=[.!?])\s+|\n+")


def passage_screen(text: str) -> str:
    """Return the passage without hidden text and without sentences that address the assistant."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    for pattern in HIDDEN:
        text = pattern.sub(" ", text)
    kept = []
    for line in text.split("\n"):
        sentences = [s for s in _sentence_end.split(line) if s.strip()]
        clean = [s for s in sentences if not any(p.search(s) for p in _injection)]
        if clean or not sentences:
            kept.append(" ".join(clean))
    return re.sub(r"[ \t]{2,}", " ", "\n".join(kept)).strip()
