"""Rate plans, enforced in Redis for every process alike: requests per minute, answers and tokens per day.

Per tenant (RatePlan; a tenant without one gets settings.RATE_PLAN_DEFAULT):
- requests_per_minute: every API request, a sliding 60-second window (a sorted set of request times), so the
  (limit + 1)-th request inside any 60 s is refused, never an earlier one, whatever the clock's minute;
- answers_per_day: every /ai/v1 request, counted per UTC day;
- tokens_per_day: the prompt and completion tokens of the day's answer records, added after each answer
  (`tokens_consume`); an /ai/v1 request is refused once the day's count has reached the limit.

Over a limit: 429, `Retry-After` in seconds, and a body naming the limit:
`{"detail": "...", "limit": "requests_per_minute", "allowed": 600, "retry_after_s": 12, "plan": "standard"}`.
Every check and count is one Lua script on Redis time, so concurrent web processes never race or disagree.
If Redis cannot be reached, requests are refused with a 503 (a limit that cannot be enforced is not skipped).
"""

import logging
import uuid

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.throttling import BaseThrottle

from core.redis import redis_client
from governance.models import RatePlan

logger = logging.getLogger(__name__)

KEY_PREFIX = "ratelimit:"
WINDOW_MS = 60_000  # requests_per_minute: a sliding minute
DAY_S = 86_400
AI_PREFIX = "/ai/"  # requests under it are answers
LIMITS = ("requests_per_minute", "answers_per_day", "tokens_per_day")

# KEYS: the window's set. ARGV: limit, window (ms), member. Returns {1, 0} when admitted, else {0, wait ms}.
_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(oldest[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"""

# KEYS: the counter's prefix (the UTC day is appended). ARGV: limit, amount to add (0: check only).
# Returns {1, used} when the day's count is under the limit (then adds), else {0, seconds until midnight}.
_DAY = """
local now = tonumber(redis.call('TIME')[1])
local key = KEYS[1] .. math.floor(now / 86400)
local used = tonumber(redis.call('GET', key) or '0')
if used >= tonumber(ARGV[1]) then return {0, 86400 - now % 86400} end
if tonumber(ARGV[2]) > 0 then
  used = redis.call('INCRBY', key, ARGV[2])
  redis.call('EXPIRE', key, 172800)
end
return {1, used}
"""

# KEYS: the counter's prefix. ARGV: amount. Adds to today's count unconditionally.
_ADD = """
local now = tonumber(redis.call('TIME')[1])
local key = KEYS[1] .. math.floor(now / 86400)
local used = redis.call('INCRBY', key, ARGV[1])
redis.call('EXPIRE', key, 172800)
return used
"""

MESSAGES = {
    "requests_per_minute": "The tenant's plan allows {allowed} requests per minute.",
    "answers_per_day": "The tenant's plan allows {allowed} answers per day (UTC).",
    "tokens_per_day": "The tenant's plan allows {allowed} LLM tokens per day (UTC); today's are used up.",
}


class RateLimited(APIException):
    """429 naming the limit; DRF's handler sends `wait` as Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"

    def __init__(self, *, limit: str, allowed: int, wait_s: int, plan: str):
        self.wait = max(1, int(wait_s))
        self.detail = {
            "detail": f"{MESSAGES[limit].format(allowed=allowed)} Retry after {self.wait} s.",
            "limit": limit,
            "allowed": allowed,
            "retry_after_s": self.wait,
            "plan": plan,
        }


class RateLimitUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Rate limits cannot be checked right now; retry shortly."
    default_code = "rate_limit_unavailable"
    wait = 5


def rate_plan_for(tenant_id: int) -> dict:
    """Return the tenant's limits (its RatePlan, else settings.RATE_PLAN_DEFAULT)."""
    row = RatePlan.objects.filter(tenant_id=tenant_id).values("name", *LIMITS).first()
    return row or dict(settings.RATE_PLAN_DEFAULT)


def _key(tenant_id: int, limit: str) -> str:
    return f"{KEY_PREFIX}{tenant_id}:{limit}:"


def rate_check(*, tenant_id: int, answer: bool, client=None) -> None:
    """Count one request (and one answer when `answer`); raise RateLimited over a limit."""
    client = client or redis_client()
    plan = rate_plan_for(tenant_id)
    name = plan.get("name", "default")
    allowed = plan["requests_per_minute"]
    admitted, wait_ms = client.eval(_WINDOW, 1, _key(tenant_id, "rpm"), allowed, WINDOW_MS, uuid.uuid4().hex)
    if not admitted:
        raise RateLimited(limit="requests_per_minute", allowed=allowed, wait_s=-(-int(wait_ms) // 1000), plan=name)
    if not answer:
        return
    for limit, amount in (("tokens_per_day", 0), ("answers_per_day", 1)):
        admitted, wait_s = client.eval(_DAY, 1, _key(tenant_id, limit), plan[limit], amount)
        if not admitted:
            raise RateLimited(limit=limit, allowed=plan[limit], wait_s=int(wait_s), plan=name)


def tokens_consume(*, tenant_id: int, tokens: int, client=None) -> None:
    """Add an answer's prompt and completion tokens to the tenant's day; never fails the answer."""
    if tokens <= 0:
        return
    try:
        (client or redis_client()).eval(_ADD, 1, _key(tenant_id, "tokens_per_day"), int(tokens))
    except RedisError as exc:
        logger.warning("token usage not counted for tenant %s: %s", tenant_id, type(exc).__name__)


def usage_today(tenant_id: int, client=None) -> dict:
    """Return today's answers and tokens for display and tests."""
    client = client or redis_client()
    seconds, _ = client.time()
    day = seconds // DAY_S
    return {
        limit: int(client.get(f"{_key(tenant_id, limit)}{day}") or 0) for limit in ("answers_per_day", "tokens_per_day")
    }


class RatePlanThrottle(BaseThrottle):
    """DRF throttle over the caller's tenant (set by HasTenant, which runs first); other callers pass."""

    def allow_request(self, request, view):
        caller = getattr(request, "caller", None)
        if caller is None:
            return True
        try:
            rate_check(tenant_id=caller.tenant_id, answer=request.path.startswith(AI_PREFIX))
        except RedisError as exc:
            logger.error("rate limits unavailable: %s", type(exc).__name__)
            raise RateLimitUnavailable() from None
        return True
