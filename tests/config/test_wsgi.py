"""The WSGI entry point loads the models a request needs before the first request arrives."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model  # loads the embedding model

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import config.wsgi\n"
    "from knowledge import embedding\n"
    "print('loaded', embedding._load.cache_info().currsize, embedding._load_cross_encoder.cache_info().currsize)\n"
)


def _import_wsgi(**overrides) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_DEBUG": "1", **overrides}  # DATABASE_URL and REDIS_URL: the test servers
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_wsgi__importing_the_application_loads_the_query_encoder_and_the_reranker(tiny_cross_encoder):
    result = _import_wsgi(RERANKER_MODEL=tiny_cross_encoder)

    assert result.returncode == 0, result.stderr
    assert "loaded 1 1" in result.stdout


def test_wsgi__a_reranker_path_that_is_no_model_stops_the_process_and_names_it(tmp_path):
    result = _import_wsgi(RERANKER_MODEL=str(tmp_path / "missing"))

    assert result.returncode != 0
    assert "is not a directory with a CrossEncoder model" in result.stderr
