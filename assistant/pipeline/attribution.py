"""Authority of a sentence's sources: customers' statements are served attributed, and never as prices or policy.

Reviews and Q&A answers are customers speaking. A sentence resting on them alone (every passage it cites is a
review or an answer) is served as an attributed statement ("A customer answered: ..."), corrected to that
form when drafted otherwise; one stating a price or a policy term is removed, since only price lists and
published policies have authority for those. A sentence that also cites the shop's own text is checked as
that text's claim.
"""

import re
from collections.abc import Iterable
from typing import Protocol

from assistant import customer_voice
from assistant.pipeline import claims as find
from assistant.providers.base import PromptPassage

REASON = "authority"
EXPLANATION = "a price or policy statement that only a customer review or answer makes"
# Policy words state a term (not an experience) when they come with a figure or one of these words.
POLICY_TERM_RE = re.compile(
    r"\b(free|policy|days?|weeks?|months?|years?|kostenlos\w*|richtlinie\w*|tage\w*|wochen|monate\w*|jahre\w*)\b",
    re.IGNORECASE,
)


class Checked(Protocol):
    """The verifier's working copy of a sentence."""

    text: str
    corrected: bool
    reasons: list[str]

    def fail(self, reason: str) -> None: ...


def check(check: Checked, passages: Iterable[PromptPassage], numbers: list[int], locale: str) -> None:
    """Attribute a sentence that rests on customers' passages alone, or fail it when it states a price or policy."""
    if check.reasons:
        return
    cited = [p for p in passages if p.number in numbers]
    if not cited or not all(customer_voice.is_customer(p.source) for p in cited):
        return
    if states_price_or_policy(customer_voice.statement(check.text)):
        check.fail(REASON)
    elif not customer_voice.is_attributed(check.text):
        check.text = customer_voice.attribute(check.text, cited[0].source, cited[0].rating, locale)
        check.corrected = True


def evidence(passage: PromptPassage) -> str:
    """Return what a passage states: its title and text, and for a customer's the label attributions quote."""
    said = customer_voice.label(passage.source, passage.rating)
    return f"{passage.title}\n{passage.text}\n{said}" if said else f"{passage.title}\n{passage.text}"


def states_price_or_policy(sentence: str) -> bool:
    """Say whether the sentence states a price, or a policy term (a return window, free delivery, a warranty)."""
    if find.prices_in(sentence):
        return True
    if not find.POLICY_RE.search(sentence):
        return False
    return bool(find.figures_in(sentence, []) or POLICY_TERM_RE.search(sentence))
