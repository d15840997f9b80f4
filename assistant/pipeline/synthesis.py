"""ProviderRouter picks the provider; RouterSynthesizer asks it for a draft, whole or streamed.

Only the router's interface (assistant.providers.router) is used here.
"""

import logging
from collections.abc import Iterator

from assistant.pipeline.types import Draft, Guarded, Prompt, Retrieved
from assistant.providers import router
from assistant.providers.base import ProviderError, Route
from assistant.text import words

logger = logging.getLogger(__name__)


def route_reason(route: Route, extra: dict) -> str:
    """Say why this provider drafted: the route's reason, and the fallback's cause when the routed one was not used."""
    if not extra.get("fallback_from"):
        return route.reason
    return f"fallback from {extra['fallback_from']}: {extra.get('fallback_reason', '')} (route {route.reason})"


class ProviderRouter:
    """Route by capability, risk class and retrieval confidence: settings only, no I/O."""

    def run(self, *, guarded: Guarded, retrieved: Retrieved, tenant_id: int) -> Route:
        return router.route(
            capability=guarded.ask.capability,
            risk=guarded.risk,
            confidence=retrieved.confidence,
            tenant_id=tenant_id,
        )


class RouterSynthesizer:
    def run(self, *, route: Route, prompt: Prompt, tenant_id: int, stream: bool = False) -> "Draft | StreamedDraft":
        """Return the provider's draft, or with `stream` its deltas (they end early if the provider fails).

        An abstaining route or a failed provider gives an empty draft.
        """
        if stream:
            return StreamedDraft(route, prompt, tenant_id)
        if route.abstain or route.provider is None:
            return Draft(text="", provider="", model="", route_reason=route.reason)
        try:
            completion = router.complete(route, prompt.request, tenant_id=tenant_id)
        except ProviderError as exc:
            logger.warning("synthesis failed: %s", exc)
            return Draft(
                text="", provider=route.provider.name, model=route.provider.model, route_reason=f"error: {exc}"
            )
        return Draft(
            text=completion.text,
            provider=completion.provider,
            model=completion.model,
            route_reason=route_reason(route, completion.extra),
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
        )


class StreamedDraft:
    """Iterate a routed stream's deltas, then describe the draft (who produced it, token counts) for the record."""

    def __init__(self, route: Route, prompt: Prompt, tenant_id: int):
        self.route, self.prompt, self.tenant_id = route, prompt, tenant_id
        self.source = None
        self.parts: list[str] = []
        self.error = ""

    def __iter__(self) -> Iterator[str]:
        if self.route.abstain or self.route.provider is None:
            return
        try:
            self.source = router.stream(self.route, self.prompt.request, tenant_id=self.tenant_id)
            for delta in self.source:
                self.parts.append(delta)
                yield delta
        except ProviderError as exc:  # what was verified so far stands; the rest of the draft is lost
            logger.warning("streamed synthesis failed: %s", exc)
            self.error = f"error: {exc}"

    def draft(self) -> Draft:
        text = "".join(self.parts)
        source, provider = self.source, self.route.provider
        request = self.prompt.request
        return Draft(
            text=text,
            provider=getattr(source, "provider", None) or (provider.name if provider else ""),
            model=getattr(source, "model", None) or (provider.model if provider else ""),
            route_reason=self.error or route_reason(self.route, getattr(source, "extra", None) or {}),
            prompt_tokens=getattr(source, "prompt_tokens", 0)
            or len(words(request.system)) + len(words(request.prompt)),
            completion_tokens=getattr(source, "completion_tokens", 0) or len(words(text)),
        )
