"""Choose a provider per request and call it behind its circuit breaker, falling back to the extractive one.

Interface used by the pipeline (kept stable):
    route(*, capability, risk, confidence, tenant_id) -> Route
    complete(route, request, *, tenant_id) -> Completion      # breaker, bulkhead and fallback inside
    stream(route, request, *, tenant_id) -> Iterator[str]      # idem, for server-sent events

Routing reads settings only (no I/O): the capability's provider (ASSISTANT_ROUTES, else the default),
escalated to ASSISTANT_ESCALATE_TO for high-risk questions or weak retrieval, or an abstention when the
retrieval confidence is under the risk class's floor. Resilience happens at call time: a provider other
than the fallback is called only with a free slot in the tenant's bulkhead and a closed (or probing)
breaker; a refusal or a ProviderError answers from the fallback instead, and the Completion says so in
`extra["fallback_from"]` and `extra["fallback_reason"]`.

Streams: a failure before the first delta falls back like `complete`. Once a delta has been yielded the
client may already hold verified sentences of that draft, and splicing another provider's draft onto it
would make one answer of two; so a mid-stream failure counts against the breaker and is raised to the
pipeline as ProviderError, which ends the answer with what it has verified so far. The returned
TextStream tells, once iterated, which provider and model produced it and the token counts.

PII: a provider that sends prompts off the machine (`external`) gets the request with every PII value
replaced by the tenant's vault token (`assistant/pipeline/redaction.py`), and its draft comes back with this
request's own values restored. If tokenizing fails, nothing is sent: the fallback answers.
"""

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.utils.module_loading import import_string
from redis.exceptions import RedisError

from assistant.providers import redaction
from assistant.providers.base import Completion, Provider, ProviderError, ProviderRequest, Route
from assistant.providers.breakers import CircuitBreaker
from assistant.providers.bulkheads import Bulkhead
from assistant.providers.streams import TextStream
from governance.models import Risk

logger = logging.getLogger(__name__)

CAPABILITIES = ("chat", "search", "summarize", "classify", "generate")
RISKS = tuple(Risk.values)
_instances: dict[str, Provider] = {}
_instances_lock = threading.Lock()


# Providers -------------------------------------------------------------------------------------------------


def provider(name: str) -> Provider:
    """Return the configured provider `name` (ASSISTANT_PROVIDERS), built once per configuration."""
    config = dict(settings.ASSISTANT_PROVIDERS[name])
    key = f"{name}:{json.dumps(config, sort_keys=True, default=str)}"
    with _instances_lock:
        if key not in _instances:
            cls = import_string(config.pop("class"))
            _instances[key] = cls(**config)
        return _instances[key]


def fallback() -> Provider:
    return provider(settings.ASSISTANT_FALLBACK_PROVIDER)


def warm_up() -> None:
    """Load every provider a route can reach now (a local model's weights), not on the first question."""
    names = {
        settings.ASSISTANT_DEFAULT_PROVIDER,
        settings.ASSISTANT_ESCALATE_TO,
        settings.ASSISTANT_FALLBACK_PROVIDER,
        *settings.ASSISTANT_ROUTES.values(),
    }
    for name in sorted(names):
        warm = getattr(provider(name), "warm_up", None)
        if warm is not None:
            warm()


def breaker_for(name: str) -> CircuitBreaker:
    return CircuitBreaker(
        name,
        failures=settings.ASSISTANT_BREAKER_FAILURES,
        window_s=settings.ASSISTANT_BREAKER_WINDOW_S,
        cooldown_s=settings.ASSISTANT_BREAKER_COOLDOWN_S,
        probe_ttl_s=settings.ASSISTANT_BULKHEAD_LEASE_S,
    )


def bulkhead_for(tenant_id) -> Bulkhead:
    return Bulkhead(tenant_id, limit=settings.ASSISTANT_TENANT_CONCURRENCY, lease_s=settings.ASSISTANT_BULKHEAD_LEASE_S)


# Routing ---------------------------------------------------------------------------------------------------


def route(*, capability: str, risk: str, confidence: float, tenant_id: int) -> Route:
    """Pick the provider for one request, or abstain when retrieval is too weak to answer from."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; expected one of {', '.join(CAPABILITIES)}")
    if risk not in RISKS:
        raise ValueError(f"unknown risk class {risk!r}; expected 'low' or 'high'")
    floor = settings.ASSISTANT_ABSTAIN_BELOW_HIGH_RISK if risk == "high" else settings.ASSISTANT_ABSTAIN_BELOW
    if confidence < floor:
        reason = f"abstain: retrieval confidence {confidence:.2f} is below the {risk}-risk floor {floor:.2f}"
        return Route(provider=None, reason=reason, abstain=True)
    name = settings.ASSISTANT_ROUTES.get(capability, settings.ASSISTANT_DEFAULT_PROVIDER)
    causes = []
    if risk == "high":
        causes.append("high risk")
    if confidence < settings.ASSISTANT_ESCALATE_BELOW:
        causes.append(f"confidence {confidence:.2f} below {settings.ASSISTANT_ESCALATE_BELOW:.2f}")
    target = settings.ASSISTANT_ESCALATE_TO
    if causes and target != name:
        return Route(provider=provider(target), reason=f"{capability}: {' and '.join(causes)}: {name} -> {target}")
    detail = f" ({' and '.join(causes)}; already the escalation target)" if causes else ""
    return Route(provider=provider(name), reason=f"{capability}: {name}{detail}")


# Calls -----------------------------------------------------------------------------------------------------


class _Guard:
    """A tenant's bulkhead slot and the provider's breaker permit around one call."""

    def __init__(self, primary: Provider, tenant_id):
        self.name = primary.name
        self.tenant_id = tenant_id
        self.permit = None
        self.token = None
        self.renewed_at = 0.0

    def enter(self) -> str | None:
        """Take a slot and a permit; return why the call may not go ahead, or None when it may."""
        try:
            self.bulkhead = bulkhead_for(self.tenant_id)
            self.token = self.bulkhead.acquire()
            if self.token is None:
                return f"tenant {self.tenant_id} is using all {self.bulkhead.limit} of its provider slots"
            self.renewed_at = time.monotonic()
            self.breaker = breaker_for(self.name)
            self.permit = self.breaker.allow()
        except RedisError as exc:
            self.exit()
            return f"breaker and bulkhead state unavailable ({type(exc).__name__})"
        if self.permit == "open":
            self.exit()
            return f"the circuit breaker of {self.name} is open"
        return None

    def renew(self) -> None:
        """Keep a long stream's slot: renew its lease once a third of it has passed."""
        if time.monotonic() - self.renewed_at > self.bulkhead.lease_ms / 3000:
            self.renewed_at = time.monotonic()
            self._quietly(self.bulkhead.renew, self.token)

    def succeeded(self) -> None:
        self._quietly(self.breaker.record_success, self.permit)

    def failed(self) -> None:
        if self._quietly(self.breaker.record_failure) == "open":
            logger.warning("circuit breaker of provider %s is open", self.name)

    def exit(self) -> None:
        if self.token is not None:
            self._quietly(self.bulkhead.release, self.token)  # if Redis is gone, the lease expires
            self.token = None

    @staticmethod
    def _quietly(call, *args):
        try:
            return call(*args)
        except RedisError as exc:
            logger.warning("provider resilience state not updated: %s", type(exc).__name__)
            return None


def _annotate(completion: Completion, primary: Provider, reason: str) -> Completion:
    extra = {**completion.extra, "fallback_from": primary.name, "fallback_reason": reason}
    return dataclasses.replace(completion, extra=extra)


def complete(decision: Route, request: ProviderRequest, *, tenant_id: int) -> Completion:
    """Return the routed provider's draft, or the fallback's when the call is refused or fails."""
    primary = _routed(decision)
    backup = fallback()
    if primary.name == backup.name:
        return primary.complete(request)
    outbound, refusal = _redacted(primary, request, tenant_id)
    guard = _Guard(primary, tenant_id)
    refusal = refusal or guard.enter()
    if refusal is None:
        sent, mapping = outbound
        try:
            completion = primary.complete(sent)
        except ProviderError as exc:
            guard.failed()
            refusal = str(exc)
        else:
            guard.succeeded()
            return redaction.completion_restore(completion, mapping)
        finally:
            guard.exit()
    logger.info("provider %s not used, answering from %s: %s", primary.name, backup.name, refusal)
    return _annotate(backup.complete(request), primary, refusal)


def stream(decision: Route, request: ProviderRequest, *, tenant_id: int) -> TextStream:
    """Yield the routed provider's deltas, or the fallback's when refused or failing before the first one."""
    primary = _routed(decision)
    backup = fallback()
    if primary.name == backup.name:
        return TextStream(primary.name, primary.model, lambda out: _relay(primary.stream(request), out))
    return TextStream(
        primary.name, primary.model, lambda out: _guarded_deltas(primary, backup, request, tenant_id, out)
    )


def _redacted(primary: Provider, request: ProviderRequest, tenant_id) -> tuple[tuple, str | None]:
    """Return ((request to send, {token: value}), None), or (None, why nothing may be sent)."""
    if not redaction.leaves_premises(primary):
        return (request, {}), None
    try:
        return redaction.request_redact(request, tenant_id=tenant_id), None
    except Exception as exc:  # noqa: BLE001 - whatever failed, an unredacted prompt must not leave
        logger.error("PII tokenization failed; %s not called: %s", primary.name, type(exc).__name__)
        return None, f"PII tokenization failed ({type(exc).__name__}); the prompt was not sent"


def _routed(decision: Route) -> Provider:
    if decision.abstain or decision.provider is None:
        raise ProviderError(f"the route abstains ({decision.reason}): there is nothing to synthesize")
    return decision.provider


def _close(deltas) -> None:
    close = getattr(deltas, "close", None)
    if close is not None:
        close()


def _report(deltas, out: TextStream) -> None:
    """Copy what a provider's stream reports once exhausted (model, token counts, extra) onto `out`."""
    for attribute in ("model", "prompt_tokens", "completion_tokens"):
        value = getattr(deltas, attribute, None)
        if value:
            setattr(out, attribute, value)
    out.extra.update(getattr(deltas, "extra", None) or {})


def _relay(deltas: Iterator[str], out: TextStream) -> Iterator[str]:
    try:
        yield from deltas
    finally:
        _close(deltas)
    _report(deltas, out)


def _guarded_deltas(
    primary: Provider, backup: Provider, request: ProviderRequest, tenant_id, out: TextStream
) -> Iterator[str]:
    outbound, refusal = _redacted(primary, request, tenant_id)
    guard = _Guard(primary, tenant_id)
    refusal = refusal or guard.enter()
    if refusal is None:
        sent, mapping = outbound
        deltas = None
        try:
            deltas = primary.stream(sent)
            first = next(deltas, None)
        except ProviderError as exc:
            guard.failed()
            guard.exit()
            _close(deltas)
            refusal = str(exc)
        else:
            yield from _rest_of_stream(guard, deltas, first, out, redaction.StreamRestorer(mapping))
            return
    logger.info("provider %s not used, streaming from %s: %s", primary.name, backup.name, refusal)
    out.provider, out.model = backup.name, backup.model
    out.extra.update({"fallback_from": primary.name, "fallback_reason": refusal})
    yield from _relay(backup.stream(request), out)


def _rest_of_stream(
    guard: _Guard, deltas: Iterator[str], first: str | None, out: TextStream, restorer: "redaction.StreamRestorer"
) -> Iterator[str]:
    """Yield the first delta and the rest (PII restored), renewing the slot; a failure now is the pipeline's."""
    sent = 0
    try:
        if first is not None:
            sent += len(first)
            restored = restorer.feed(first)
            if restored:
                yield restored
            for delta in deltas:
                guard.renew()
                sent += len(delta)
                restored = restorer.feed(delta)
                if restored:
                    yield restored
            rest = restorer.flush()
            if rest:
                yield rest
    except ProviderError as exc:
        guard.failed()
        out.extra["failed_after_chars"] = sent
        raise ProviderError(f"{exc}; the stream broke after {sent} characters had been sent") from exc
    else:
        guard.succeeded()
        _report(deltas, out)
    finally:
        guard.exit()
        _close(deltas)
