"""PII redaction around providers and in retained records.

Outbound: before a prompt leaves for an outside provider (one whose `external` is true: the OpenAI-compatible
provider), its system and user messages have every PII value replaced by the tenant's vault token. The local
transformers model and the extractive synthesizer run in this process, so nothing leaves and they read the
text as is (tokens would only make their answers worse).

Inbound: the provider's draft is detokenized with this request's own mapping only, i.e. the values the
caller sent or passages it may read anyway; a token the draft invents, or one planted in a document, stays a
token. So the client gets its own PII back, and the retained record keeps tokens (see `retained_*`).
"""

import dataclasses

from assistant.providers.base import Completion, ProviderRequest
from governance.vault import DIGEST_CHARS, detokenize_with, pii_tokenize

TOKEN_OPEN = "⟦"
TOKEN_MAX = len("⟦PII:ADDRESS:⟧") + DIGEST_CHARS + 4  # a held-back fragment longer than this is no token


def leaves_premises(provider) -> bool:
    """True for providers that send prompts to another machine (only those get tokenized prompts)."""
    return bool(getattr(provider, "external", False))


def request_redact(request: ProviderRequest, *, tenant_id) -> tuple[ProviderRequest, dict[str, str]]:
    """Return the request with PII tokenized in every message it sends, and {token: value} for the answer."""
    system, mapping = pii_tokenize(tenant=tenant_id, text=request.system)
    prompt, more = pii_tokenize(tenant=tenant_id, text=request.prompt)
    question, more_q = pii_tokenize(tenant=tenant_id, text=request.question)
    mapping.update(more)
    mapping.update(more_q)
    return dataclasses.replace(request, system=system, prompt=prompt, question=question), mapping


def completion_restore(completion: Completion, mapping: dict[str, str]) -> Completion:
    """Put this request's own values back into the provider's draft."""
    if not mapping:
        return completion
    return dataclasses.replace(completion, text=detokenize_with(completion.text, mapping))


class StreamRestorer:
    """Detokenize a stream of deltas: a token split over deltas is held back until it is complete."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping
        self.pending = ""

    def feed(self, delta: str) -> str:
        if not self.mapping:
            return delta
        text = self.pending + delta
        cut = text.rfind(TOKEN_OPEN)
        if cut != -1 and "⟧" not in text[cut:] and len(text) - cut < TOKEN_MAX:
            self.pending, text = text[cut:], text[:cut]
        else:
            self.pending = ""
        return detokenize_with(text, self.mapping)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return detokenize_with(text, self.mapping)


# The retained record: tokens only -----------------------------------------------------------------------------


def retained_text(tenant, text: str) -> str:
    """Return `text` as the answer record keeps it: every PII value replaced by its tenant's token."""
    return pii_tokenize(tenant=tenant, text=text)[0] if text else text


def retained_claims(tenant, claims) -> tuple:
    return tuple(
        dataclasses.replace(c, text=retained_text(tenant, c.text), drafted=retained_text(tenant, c.drafted))
        for c in claims
    )
