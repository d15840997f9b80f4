import logging
import os
import subprocess
import sys

import numpy as np
import pytest
from django.conf import settings as django_settings

from knowledge import embedding, query_encoder

pytestmark = pytest.mark.model  # loads the embedding model

TEXTS = [
    "wireless headphones",
    "Akku-Bohrschrauber mit zwei Akkus",
    "BW-HD18-2AH",
    "充電式ドリル",
    "?!",
    "x" * 10_000,  # cut at the model's 256 word pieces, as the SentenceTransformer cuts it
]


@pytest.fixture
def path():
    return embedding.default_model_path()


@pytest.fixture
def fresh_loads():
    """Forget the loaded sessions around the test (they are keyed by cache folder and tolerance)."""
    query_encoder._load.cache_clear()
    yield
    query_encoder._load.cache_clear()


def test_encode_query__onnx_runtime_gives_the_sentence_transformers_vectors(path):
    assert isinstance(query_encoder._session_for(path), query_encoder.OnnxQueryEncoder)

    for text in TEXTS:
        expected = embedding.encode(path, [text])[0]
        assert np.abs(query_encoder.encode_query(path, text) - expected).max() < 1e-5, text


def test_export__written_once_per_model_then_reused(path, tmp_path, fresh_loads, monkeypatch):
    assert query_encoder._load(path, str(tmp_path), 1e-4) is not None
    (file,) = tmp_path.glob("*.onnx")
    assert file.name == f"{query_encoder.export_key(path)}.onnx"
    assert not list(tmp_path.glob("*.partial"))
    query_encoder._load.cache_clear()

    def no_second_export(*args):
        raise AssertionError("exported again")

    monkeypatch.setattr(query_encoder, "export", no_second_export)
    assert query_encoder._load(path, str(tmp_path), 1e-4) is not None


def test_an_export_that_differs_from_the_model_is_not_used(path, settings, fresh_loads, caplog):
    settings.QUERY_ENCODER_TOLERANCE = -1.0  # no export can pass

    with caplog.at_level(logging.WARNING, logger="knowledge.query_encoder"):
        vector = query_encoder.encode_query(path, "wireless headphones")

    assert np.array_equal(vector, embedding.encode(path, ["wireless headphones"])[0])  # torch's, to the bit
    assert "queries stay on torch" in caplog.text


def test_a_model_the_exporter_cannot_take_is_served_by_torch(path, tmp_path, fresh_loads, monkeypatch, caplog):
    def unsupported(model, file):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(query_encoder, "export", unsupported)

    with caplog.at_level(logging.WARNING, logger="knowledge.query_encoder"):
        assert query_encoder._load(path, str(tmp_path), 1e-4) is None

    assert "unsupported operator" in caplog.text and "stay on torch" in caplog.text


def test_query_encoder_torch__the_sentence_transformer_encodes_queries(path, settings):
    settings.QUERY_ENCODER = "torch"

    assert query_encoder._session_for(path) is None
    assert np.array_equal(query_encoder.encode_query(path, "drill"), embedding.encode(path, ["drill"])[0])


def test_an_unknown_query_encoder_setting_stops_the_process_and_says_what_to_set():
    env = {**os.environ, "QUERY_ENCODER": "gpu", "DJANGO_DEBUG": "1"}

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "QUERY_ENCODER='gpu': set it to 'onnx' or 'torch'" in result.stderr


def test_processes_starting_together_export_the_model_once(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from knowledge import embedding, query_encoder\n"
        "query_encoder.encode_query(embedding.default_model_path(), 'warm up')\n"
    )
    env = {**os.environ, "DJANGO_DEBUG": "1", "LOG_LEVEL": "INFO", "QUERY_ENCODER_CACHE_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=django_settings.BASE_DIR, env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    logs = [process.communicate(timeout=300)[1] for process in starts]

    assert [process.returncode for process in starts] == [0, 0], logs
    assert sum(log.count("query encoder: exported") for log in logs) == 1
    assert len(list(tmp_path.glob("*.onnx"))) == 1 and not list(tmp_path.glob("*.partial"))
