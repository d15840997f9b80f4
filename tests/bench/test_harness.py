"""The benchmark harness: own data folders, machine metadata in every report, and the keys each promises."""

import json
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config import embedded

BENCH_DIR = Path(settings.BASE_DIR) / "bench"
sys.path.insert(0, str(BENCH_DIR))

import _products  # noqa: E402
import _stack  # noqa: E402
import run_all  # noqa: E402


@pytest.fixture
def bench_folder(monkeypatch):
    """A benchmark name whose folder (var/bench/<name>) is removed afterwards, servers stopped."""
    name = f"harness-{uuid.uuid4().hex[:8]}"
    path = Path(settings.BASE_DIR) / "var" / "bench" / name
    monkeypatch.setenv("EMBEDDED_DIR", str(path))  # restored afterwards: the suite's own folder and servers
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("REDIS_URL")
    yield name, path
    monkeypatch.setenv("EMBEDDED_DIR", str(path))
    embedded.stop()
    shutil.rmtree(path, ignore_errors=True)


def test_own_folder_stops_the_servers_an_earlier_run_left_and_wipes_the_folder(bench_folder):
    name, path = bench_folder
    embedded.start_redis()  # an earlier run that left its server and data behind
    (path / "leftover.json").write_text("{}")

    assert _stack.own_folder(name) == path

    assert not path.exists() and embedded.leftovers(path) == []


def test_every_report_starts_with_the_commit_the_cores_and_the_load(monkeypatch, tmp_path):
    monkeypatch.setattr("os.getloadavg", lambda: (7.5, 1.0, 1.0))
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("psutil.cpu_percent", lambda interval: 80.0)
    _stack.record_start(smoke=True)
    out = tmp_path / "report.json"

    _stack.write_report({"p95_ms": 12.5}, str(out))

    report = json.loads(out.read_text())
    assert list(report)[:7] == [
        "meta.commit", "meta.started_at", "meta.cpus", "meta.load_1m_start", "meta.cpu_in_use_pct", "meta.busy",
        "meta.smoke",
    ]  # fmt: skip
    assert report["meta.cpus"] == 2 and report["meta.load_1m_start"] == 7.5 and report["meta.busy"] is True
    assert len(report["meta.commit"].split("-")[0]) == 12 and report["p95_ms"] == 12.5


def test_an_idle_machine_is_not_flagged_though_the_load_average_still_remembers_a_past_run(monkeypatch):
    monkeypatch.setattr("os.getloadavg", lambda: (1.8, 0.9, 0.5))
    monkeypatch.setattr("psutil.cpu_percent", lambda interval: 3.0)

    assert _stack.record_start()["meta.busy"] is False


def test_a_report_missing_a_promised_key_fails_the_run():
    keys = run_all.required_keys("index_throughput", smoke=True)
    report = {key: 1 for key in keys}

    assert run_all.missing_keys(report, "index_throughput", smoke=True) == []
    del report["encoded"]
    assert run_all.missing_keys(report, "index_throughput", smoke=True) == ["encoded"]


def test_answer_latency_promises_the_reranked_configurations_only_when_it_ran_them():
    report = {key: 1 for key in run_all.required_keys("answer_latency", smoke=True)}
    report["reranked"] = False

    assert run_all.missing_keys(report, "answer_latency", smoke=True) == []
    report["reranked"] = True
    assert run_all.missing_keys(report, "answer_latency", smoke=True) == [
        "cold_1_reranked.p95_ms", "cold_8_reranked.p95_ms", "relevance_model"
    ]  # fmt: skip
    del report["reranked"]
    assert run_all.missing_keys(report, "answer_latency", smoke=True) == ["reranked"]  # it must say either way


def test_a_question_names_its_product_by_the_title_before_the_comma_with_or_without_the_noun():
    names = _products._names("Sonora Studio 410 Max Headphones, 30 h ANC")
    numbered = _products._names("Lumen Desk Lamp 100")
    words = _products._words("What is the battery life of the Sonora Studio 410 Max?")

    assert names == [["sonora", "studio", "410", "max", "headphones"], ["sonora", "studio", "410", "max"]]
    assert numbered == [["lumen", "desk", "lamp", "100"]]  # a model number is never dropped
    assert _products._holds(words, names[1]) and not _products._holds(words, names[0])
    assert not _products._holds(_products._words("Is the Lumen Desk Lamp 999 bright?"), numbered[0])


def test_search_latency_promises_every_configuration_of_its_sizes(monkeypatch):
    monkeypatch.delenv("BENCH_1M", raising=False)
    assert "smoke_filtered_8.p95_ms" in run_all.required_keys("search_latency", smoke=True)
    assert "100k_unfiltered_1.p95_ms" in run_all.required_keys("search_latency", smoke=False)
    assert not any(k.startswith("1m_") for k in run_all.required_keys("search_latency", smoke=False))
    monkeypatch.setenv("BENCH_1M", "1")
    assert "1m_filtered_1.p95_ms" in run_all.required_keys("search_latency", smoke=False)


def test_every_benchmark_script_is_run_by_make_bench():
    scripts = {p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all"}

    assert scripts == set(run_all.REQUIRED)


def test_docs_show_each_benchmark_that_runs_with_the_commit_it_was_measured_at():
    """Each section's figures name a commit; every bench/ command named exists; every benchmark has a section."""
    text = (Path(settings.BASE_DIR) / "docs" / "benchmarks.md").read_text()
    named = set()
    for section in text.split("\n## ")[1:]:
        title, words = section.splitlines()[0], [w.strip("`|,.()*:;") for w in section.split()]
        scripts = {w.split("/")[1].removesuffix(".py") for w in words if w.startswith("bench/") and w.endswith(".py")}
        assert all((BENCH_DIR / f"{s}.py").exists() for s in scripts), f"a removed benchmark in {title!r}"
        assert any(len(w) >= 7 and set(w) <= set("0123456789abcdef") for w in words), f"no commit in {title!r}"
        named |= scripts
    assert named >= set(run_all.REQUIRED)
