"""InputGuardrail: length and control characters, risk classification and basic injection screening."""

import re
import unicodedata

from assistant.pipeline.types import Ask, Guarded, GuardrailRejected
from assistant.text import looks_german, normalize_space
from core.injection import INJECTION_PATTERNS

QUESTION_MAX = 2_000  # characters: a shopper's question, not a document (summaries name their source instead)
CONTROL_OK = {"\n", "\t", "\r"}
# High-risk topics (the router may pick a stronger provider or abstain): money back, guarantees, law, prices, age.
RISK_PATTERNS = {
    "refund": r"\b(refunds?|refunded|money back|chargeback|erstatt\w*|rückerstattung|geld zurück)\b",
    "warranty": r"\b(warrant\w*|guarantee\w*|garantie\w*|gewährleistung)\b",
    "legal": r"\b(legal\w*|law|lawsuit|sue|liabilit\w*|gdpr|dsgvo|directive|regulation|rechtlich\w*|gesetz\w*)\b",
    "price": r"\b(price\w*|cost\w*|how much|cheap\w*|expensive|discount\w*|preis\w*|kostet|kosten|€|eur|£|gbp)\b",
    "age_restricted": r"\b(age|aged|adults?|minors?|under 18|18\+|pegi|alcohol|alter|volljährig|jugendfrei)\b",
}


class InputGuardrail:
    """Reject malformed input (400), classify risk, refuse prompt injections, resolve the locale."""

    def __init__(self, max_chars: int = QUESTION_MAX):
        self.max_chars = max_chars
        self.risk = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in RISK_PATTERNS.items()}
        self.injection = [re.compile(pattern, re.IGNORECASE | re.DOTALL) for pattern in INJECTION_PATTERNS]

    def run(self, ask: Ask) -> Guarded:
        field = {"search": "q", "classify": "text"}.get(ask.capability, "question")
        self._check(field, ask.question, required=ask.target is None)
        for i, turn in enumerate(ask.history):
            self._check(f"history[{i}].content", turn.content, required=True)
        question = normalize_space(unicodedata.normalize("NFKC", ask.question))
        locale = ask.locale or ("de" if looks_german(question) else "en")
        reasons = tuple(name for name, pattern in self.risk.items() if pattern.search(question))
        texts = [question, *(t.content for t in ask.history if t.role == "user")]
        injected = any(pattern.search(text) for pattern in self.injection for text in texts)
        return Guarded(
            ask=ask,
            question=question,
            locale=locale,
            risk="high" if reasons else "low",
            risk_reasons=reasons,
            refusal="The question tries to change the assistant's instructions." if injected else None,
        )

    def _check(self, field: str, text: str, *, required: bool) -> None:
        if required and not text.strip():
            raise GuardrailRejected({field: "Ask something: this field may not be blank."})
        if len(text) > self.max_chars:
            raise GuardrailRejected({field: f"Ensure this field has no more than {self.max_chars} characters."})
        if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in CONTROL_OK for c in text):
            raise GuardrailRejected({field: "Remove control characters from the text."})
