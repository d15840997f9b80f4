"""Per-tenant concurrency limits (bulkheads): a counting semaphore in Redis whose slots are leases.

Each slot is a member of a sorted set scored by its lease's expiry (Redis time), so a process killed
while holding a slot cannot leak it: the next acquire drops expired leases first. A long stream renews
its lease as it goes. Acquire, renew and release are each one atomic Lua script.
"""

import uuid

from core.redis import redis_client

KEY_PREFIX = "assistant:bulkhead:"

# KEYS: the set. ARGV: limit, lease (ms), token. Returns 1 when the slot was taken.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""

# KEYS: the set. ARGV: lease (ms), token. Returns 1 when the lease was still held and is now renewed.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
"""


class Bulkhead:
    """At most `limit` concurrent calls for one tenant, each slot held for at most `lease_s` unless renewed."""

    def __init__(self, tenant_id, *, limit: int, lease_s: float, client=None):
        self.key = f"{KEY_PREFIX}{tenant_id}"
        self.limit = limit
        self.lease_ms = max(1, int(lease_s * 1000))
        self._client = client or redis_client()

    def acquire(self) -> str | None:
        """Take a slot and return its token, or None when the tenant already uses all its slots."""
        token = uuid.uuid4().hex
        taken = self._client.eval(_ACQUIRE, 1, self.key, self.limit, self.lease_ms, token)
        return token if taken == 1 else None

    def renew(self, token: str) -> bool:
        """Extend a held slot's lease; False if it had already expired (and may have been given away)."""
        return self._client.eval(_RENEW, 1, self.key, self.lease_ms, token) == 1

    def release(self, token: str) -> None:
        self._client.zrem(self.key, token)

    def in_use(self) -> int:
        """Count the slots held now (expired leases excluded), for display and tests."""
        seconds, micros = self._client.time()
        return self._client.zcount(self.key, seconds * 1000 + micros // 1000 + 1, "+inf")
