"""The Redis client for state every process shares: circuit breakers, bulkheads, rate limits."""

from django.core.cache import caches


def redis_client():
    """Return a client of the cache's Redis (db 1): the state is as durable and shared as the cache."""
    return caches["default"]._cache.get_client(write=True)
