"""Circuit breakers and bulkheads on the test Redis: their states and transitions, shared across clients."""

import time
import uuid

import pytest
import redis

from assistant.providers.breakers import CircuitBreaker
from assistant.providers.bulkheads import Bulkhead
from core.redis import redis_client
from tests.worker import wait_until


@pytest.fixture
def name():
    return f"test-{uuid.uuid4().hex[:8]}"


def test_breakers__open_after_consecutive_failures(name):
    breaker = CircuitBreaker(name, failures=3, window_s=60, cooldown_s=60)

    states = [breaker.record_failure() for _ in range(3)]

    assert states == ["closed", "closed", "open"]
    assert breaker.state() == "open"
    assert breaker.allow() == "open"


def test_breakers__success_resets_the_count(name):
    breaker = CircuitBreaker(name, failures=3, window_s=60, cooldown_s=60)

    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success("closed")
    after = [breaker.record_failure(), breaker.record_failure()]

    assert after == ["closed", "closed"]
    assert breaker.allow() == "closed"


def test_breakers__failures_outside_the_window_do_not_add_up(name):
    breaker = CircuitBreaker(name, failures=2, window_s=0.2, cooldown_s=60)

    breaker.record_failure()
    wait_until(lambda: not redis_client().exists(f"assistant:breaker:{name}:fails"))  # the window ended
    state = breaker.record_failure()

    assert state == "closed"


def test_breakers__half_open_lets_one_probe_through_and_its_success_closes(name):
    breaker = CircuitBreaker(name, failures=1, window_s=60, cooldown_s=0.2)
    breaker.record_failure()
    wait_until(lambda: breaker.state() == "half-open")

    permits = [breaker.allow(), breaker.allow()]
    breaker.record_success(permits[0])

    assert permits == ["probe", "open"]  # the second caller falls back while the probe runs
    assert breaker.state() == "closed"
    assert breaker.allow() == "closed"


def test_breakers__failed_probe_opens_again_for_another_cooldown(name):
    breaker = CircuitBreaker(name, failures=1, window_s=60, cooldown_s=0.2)
    breaker.record_failure()
    wait_until(lambda: breaker.state() == "half-open")

    assert breaker.allow() == "probe"
    assert breaker.record_failure() == "open"
    assert breaker.state() == "open"
    wait_until(lambda: breaker.state() == "half-open")
    assert breaker.allow() == "probe"


def test_breakers__a_success_that_was_not_the_probe_does_not_close(name):
    breaker = CircuitBreaker(name, failures=1, window_s=60, cooldown_s=60)
    breaker.record_failure()

    state = breaker.record_success("closed")  # a call that started before the breaker opened

    assert state == "open" and breaker.state() == "open"


def test_breakers__probe_claim_of_a_dead_process_expires(name):
    breaker = CircuitBreaker(name, failures=1, window_s=60, cooldown_s=0.05, probe_ttl_s=0.2)
    breaker.record_failure()
    wait_until(lambda: breaker.state() == "half-open")
    assert breaker.allow() == "probe"  # and its process dies without reporting

    wait_until(lambda: breaker.allow() == "probe")


def test_breakers__state_is_shared_by_every_client(name):
    first = CircuitBreaker(name, failures=2, cooldown_s=60)
    other_process = CircuitBreaker(name, failures=2, cooldown_s=60, client=redis.Redis.from_url(_cache_url()))

    first.record_failure()
    other_process.record_failure()

    assert first.state() == "open" and other_process.allow() == "open"
    first.reset()
    assert other_process.state() == "closed"


def test_bulkheads__limit_holds_and_release_frees_a_slot():
    tenant = uuid.uuid4().hex
    bulkhead = Bulkhead(tenant, limit=2, lease_s=60)

    tokens = [bulkhead.acquire(), bulkhead.acquire(), bulkhead.acquire()]
    assert tokens[0] and tokens[1] and tokens[2] is None
    assert bulkhead.in_use() == 2
    bulkhead.release(tokens[0])

    assert bulkhead.acquire() is not None
    assert bulkhead.in_use() == 2


def test_bulkheads__tenants_do_not_share_slots():
    busy, other = Bulkhead(uuid.uuid4().hex, limit=1, lease_s=60), Bulkhead(uuid.uuid4().hex, limit=1, lease_s=60)

    assert busy.acquire() is not None
    assert busy.acquire() is None
    assert other.acquire() is not None


def test_bulkheads__slot_of_a_killed_process_is_freed_when_its_lease_ends():
    bulkhead = Bulkhead(uuid.uuid4().hex, limit=1, lease_s=0.2)
    assert bulkhead.acquire() is not None  # its holder dies and never releases it

    assert bulkhead.acquire() is None
    wait_until(lambda: bulkhead.acquire() is not None)


def test_bulkheads__renew_pushes_the_lease_end_and_fails_once_released():
    bulkhead = Bulkhead(uuid.uuid4().hex, limit=1, lease_s=30)
    token = bulkhead.acquire()
    ends_at = redis_client().zscore(bulkhead.key, token)
    time.sleep(0.01)  # so Redis' clock moves on by at least a millisecond

    assert bulkhead.renew(token)
    assert redis_client().zscore(bulkhead.key, token) > ends_at
    bulkhead.release(token)
    assert not bulkhead.renew(token)
    assert bulkhead.acquire() is not None


def _cache_url() -> str:
    from django.conf import settings

    return settings.CACHES["default"]["LOCATION"]
