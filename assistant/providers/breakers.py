"""Per-provider circuit breakers whose state lives in Redis, shared by every web process and worker.

closed     calls go through; each failure (error or timeout) counts, a success resets the count. When
           `failures` consecutive failures fall within `window_s` of the first, the breaker opens.
open       calls are refused (the router answers from its fallback) until `cooldown_s` has passed.
half-open  after the cool-down exactly one call is let through as a probe (others keep being refused);
           its success closes the breaker, its failure opens it for another cool-down. A probe whose
           process died frees its claim after `probe_ttl_s`, so another can probe.

Every transition is one Lua script, atomic across processes; durations are Redis key TTLs, so no two
machines' clocks are ever compared.
"""

from core.redis import redis_client

KEY_PREFIX = "assistant:breaker:"
OPEN_TTL_MS = 24 * 3600 * 1000  # an open flag of a provider nobody calls any more does not stay forever

# KEYS: open, cooldown, probe. ARGV: probe ttl (ms).
_ALLOW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'closed' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'open' end
if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then return 'probe' end
return 'open'
"""

# KEYS: fails, open, cooldown, probe. ARGV: threshold, window (ms), cool-down (ms), open ttl (ms).
_FAILURE = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return 'open'
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 'open'
end
return 'closed'
"""

# KEYS: fails, open, cooldown, probe. ARGV: 'probe' when this call was the half-open probe.
_SUCCESS = """
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then return 'closed' end
if ARGV[1] == 'probe' then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  return 'closed'
end
return 'open'
"""


class CircuitBreaker:
    """The breaker of one provider (by its name)."""

    def __init__(
        self,
        name: str,
        *,
        failures: int = 5,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        probe_ttl_s: float = 60.0,
        client=None,
    ):
        self.name = name
        self.failures = max(1, failures)
        self.window_ms = _ms(window_s)
        self.cooldown_ms = _ms(cooldown_s)
        self.probe_ttl_ms = _ms(probe_ttl_s)
        self._client = client or redis_client()
        prefix = f"{KEY_PREFIX}{name}:"
        self._fails, self._open, self._cooldown, self._probe = (prefix + k for k in ("fails", "open", "cool", "probe"))

    def allow(self) -> str:
        """Return "closed" (call), "probe" (call: the one half-open trial) or "open" (do not call)."""
        return _text(self._client.eval(_ALLOW, 3, self._open, self._cooldown, self._probe, self.probe_ttl_ms))

    def record_failure(self) -> str:
        """Count a failure or timeout; return the state after it ("closed" or "open")."""
        keys = (self._fails, self._open, self._cooldown, self._probe)
        args = (self.failures, self.window_ms, self.cooldown_ms, OPEN_TTL_MS)
        return _text(self._client.eval(_FAILURE, 4, *keys, *args))

    def record_success(self, permit: str) -> str:
        """Reset the failure count; a successful probe closes the breaker. Return the state after it."""
        keys = (self._fails, self._open, self._cooldown, self._probe)
        return _text(self._client.eval(_SUCCESS, 4, *keys, permit))

    def state(self) -> str:
        """Return "closed", "open" or "half-open" (cool-down over, waiting for a probe), for display."""
        pipe = self._client.pipeline()
        pipe.exists(self._open)
        pipe.exists(self._cooldown)
        is_open, cooling = pipe.execute()
        if not is_open:
            return "closed"
        return "open" if cooling else "half-open"

    def reset(self) -> None:
        """Close the breaker and forget its failures (an operator's action)."""
        self._client.delete(self._fails, self._open, self._cooldown, self._probe)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
