import uuid
from functools import partial

import pytest
from django.core.cache import cache
from django.test import override_settings
from tqdm import tqdm

from knowledge.models import EmbeddingSpace
from knowledge.relevance import scoring
from knowledge.relevance.build import BuildRequest, relevance_model_build
from knowledge.relevance.training import TrainConfig
from knowledge.services.relevance import relevance_model_register
from knowledge.services.spaces import embedding_space_create
from tests.assistant.fake_openai import FakeOpenAI, provider_config
from tests.relevance_data import write_product_set
from tests.worker import Worker, drain_queue

# The fast tier (`make test-fast`: pytest -m "not worker and not model") leaves out every test that needs the
# Celery worker or loads a model. Fixtures decide most of it; modules that load a model themselves say so
# with `pytestmark = pytest.mark.model`.
WORKER_FIXTURES = {"worker", "live_worker"}
MODEL_FIXTURES = {
    "active_space", "tiny_cross_encoder", "shop", "demo_catalog", "trained_relevance_folder", "trained_relevance_model",
}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & WORKER_FIXTURES:
            item.add_marker(pytest.mark.worker)
        if fixtures & MODEL_FIXTURES:
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis():
    """Each session starts with an empty test broker and cache."""
    cache._cache.get_client().flushall()


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """Rate-plan counters live in Redis by tenant id; a flushed database may hand a later test the same id."""
    from core.redis import redis_client
    from governance.ratelimit import KEY_PREFIX

    client = redis_client()
    keys = list(client.scan_iter(f"{KEY_PREFIX}*", count=1_000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _no_cached_relevance_model():
    """The active relevance model is cached per process for a few seconds; a test's rolled-back activation
    must not outlive it."""
    scoring.forget_active()


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker):
    """One real Celery worker (solo pool, embedded beat) for the session; tests may kill and restart it."""
    handle = Worker()
    with django_db_blocker.unblock():
        handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def live_worker(worker):
    """The session worker, started (or resumed) for the test; drained and then paused before the test's
    tables are truncated, so the flush never races a worker transaction (a periodic sweep included)."""
    yield worker.start()
    if worker.running:
        drain_queue()
        worker.pause()


@pytest.fixture
def active_space(db):
    """The serving embedding space (transactional tests flush the one the migration made)."""
    return EmbeddingSpace.objects.filter(state="active").first() or embedding_space_create(name="all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory):
    """A CrossEncoder built offline from the shipped MiniLM weights with a fresh one-logit head.

    Its scores mean nothing; the tests check the wiring: it is loaded from a local path, reads the
    candidates' texts and decides their order.
    """
    from sentence_transformers import CrossEncoder

    from knowledge import embedding

    path = tmp_path_factory.mktemp("models") / "tiny-cross-encoder"
    CrossEncoder(embedding.default_model_path(), num_labels=1, local_files_only=True).save(str(path))
    return str(path)


# Enough steps for the templated attributes to be learnt (tests/knowledge/test_relevance_train.py checks it on
# held-out products); the step limit, not the clock, ends the training, so every run trains the same model.
RELEVANCE_FIXTURE_TRAINING = TrainConfig(batch=16, lr=1e-4, epochs=20, max_steps=60, seed=13)


@pytest.fixture(scope="session")
def trained_relevance_folder(tmp_path_factory):
    """A relevance model trained once per session on templated product questions (tests/relevance_data.py):
    its folder, as `train_reranker` writes it, not registered."""
    root = tmp_path_factory.mktemp("relevance")
    data = write_product_set(root / "templated", count=60, seed=1)
    request = BuildRequest(datasets=[data], name="templated", max_minutes=60, train=RELEVANCE_FIXTURE_TRAINING)
    with override_settings(RELEVANCE_MODELS_DIR=root / "models"):
        result = relevance_model_build(request, progress=partial(tqdm, disable=True), say=lambda line: None)
    return result.folder


@pytest.fixture
def trained_relevance_model(db, trained_relevance_folder):
    """The session's trained relevance model registered in this test's database; not active (activate it with
    `relevance_model_activate(model=...)` where a test needs it)."""
    return relevance_model_register(path=trained_relevance_folder)


@pytest.fixture
def llm(settings):
    """Route every capability and every escalation to a fake OpenAI-protocol server under a fresh name (fresh
    breaker state); it records the requests it is sent."""
    with FakeOpenAI() as server:
        name = f"llm-{uuid.uuid4().hex[:8]}"
        settings.ASSISTANT_PROVIDERS = {**settings.ASSISTANT_PROVIDERS, name: provider_config(server, name=name)}
        settings.ASSISTANT_DEFAULT_PROVIDER = settings.ASSISTANT_ESCALATE_TO = name
        server.provider_name = name
        yield server
