import json

import pytest
from django.core.management import call_command

from catalog.models import Tenant
from knowledge.models import Chunk

pytestmark = pytest.mark.django_db

CORPUS = [
    ("d1", "Burr grinders", "A conical burr grinder mills espresso beans evenly."),
    ("d2", "Kettles", "A gooseneck kettle pours water slowly for filter coffee."),
    ("d3", "Milk frothing", "A steam wand froths milk for cappuccino and latte."),
    ("d4", "Tea", "Green tea is steeped at eighty degrees for two minutes."),
    ("d5", "Descaling", "Descale the espresso machine monthly with citric acid."),
]
QUERIES = [("q1", "which grinder for espresso beans"), ("q2", "froth milk with steam"), ("q3", "steeping green tea")]
QRELS = [("q1", "d1"), ("q2", "d3"), ("q3", "d4")]
SYSTEMS = ["vector", "keyword", "fuzzy", "fused", "feature", "bm25s", "dense_exact", "bm25s+dense_exact_rrf"]


def _write_beir(root):
    (root / "qrels").mkdir(parents=True)
    rows = [json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in CORPUS]
    (root / "corpus.jsonl").write_text("\n".join(rows) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps({"_id": i, "text": t}) for i, t in QUERIES) + "\n")
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in QRELS)
    )


def test_evaluate_retrieval__reports_every_system_and_a_rerun_reuses_the_vectors(active_space, tmp_path):
    dataset, out = tmp_path / "tiny", tmp_path / "report.json"
    _write_beir(dataset)

    call_command("evaluate_retrieval", dataset=str(dataset), out=str(out))
    first = json.loads(out.read_text())
    call_command("evaluate_retrieval", dataset=str(dataset), out=str(out), limit_queries=2)
    second = json.loads(out.read_text())

    for system in SYSTEMS:
        for metric in ("ndcg@10", "recall@100", "mrr@10"):
            assert 0.0 <= first[f"{system}.{metric}"] <= 1.0
    assert first["keyword.ndcg@10"] == 1.0 and first["bm25s.ndcg@10"] == 1.0
    assert first["fuzzy.ndcg@10"] == 0.0  # titles of products and SKU codes: a document corpus has none
    assert first["feature.ndcg@10"] == first["fused.ndcg@10"] and first["feature.version"] == "v0"
    assert first["vector.recall@10_vs_exact"] == 1.0
    assert first["queries"] == 3 and second["queries"] == 2
    assert not any(key.startswith("fused+relevance") for key in first)  # no relevance model is active
    assert first["load.embedded"] == 5 and second["load.embedded"] == 0 and second["load.reused"] == 5
    tenant = Tenant.objects.get(slug="eval-tiny")  # replaced, not duplicated
    assert Tenant.objects.filter(slug__startswith="eval-tiny").count() == 1
    assert Chunk.objects.filter(tenant=tenant, retired_at__isnull=True).count() == 5


TRAIN_QUERIES = [("t1", "espresso grinder burrs"), ("t2", "how to descale a machine"), ("t3", "gooseneck kettle")]
TRAIN_QRELS = [("t1", "d1"), ("t2", "d5"), ("t3", "d2")]


def _write_train_split(root):
    rows = [json.dumps({"_id": i, "text": t}) for i, t in QUERIES + TRAIN_QUERIES]
    (root / "queries_all.jsonl").write_text("\n".join(rows) + "\n")
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in TRAIN_QRELS)
    )


def test_evaluate_retrieval__fused_relevance_tunes_on_train_queries_with_the_active_model(
    active_space, trained_relevance_model, tmp_path
):
    from knowledge.relevance.scoring import MAX_CANDIDATES
    from knowledge.retrieval.relevance_blend import WEIGHTS
    from knowledge.services.relevance import relevance_model_activate

    dataset, out = tmp_path / "tiny", tmp_path / "report.json"
    _write_beir(dataset)
    _write_train_split(dataset)
    relevance_model_activate(model=trained_relevance_model)

    call_command("evaluate_retrieval", dataset=str(dataset), out=str(out))
    figures = json.loads(out.read_text())

    assert 0.0 <= figures["fused+relevance.ndcg@10"] <= 1.0 and "fused.ndcg@10" in figures
    assert figures["fused+relevance.model"] == "templated@v1"
    assert figures["fused+relevance.tuning_queries"] == 3 and figures["fused+relevance.weight"] in WEIGHTS
    assert figures["fused+relevance.depth"] == 2 * MAX_CANDIDATES
    assert len([k for k in figures if k.startswith("fused+relevance.tuning.ndcg@10_at_")]) == len(WEIGHTS)


def test_evaluate_retrieval__a_relevance_model_path_that_is_no_model_folder_is_refused(tmp_path):
    from django.core.management.base import CommandError

    dataset = tmp_path / "tiny"
    _write_beir(dataset)

    with pytest.raises(CommandError, match="--relevance-model .*missing .*model-int8.onnx"):
        call_command("evaluate_retrieval", dataset=str(dataset), relevance_model=str(tmp_path))

    assert not Tenant.objects.filter(slug="eval-tiny").exists()


def test_evaluate_retrieval__rejects_a_folder_that_is_not_a_beir_set(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a BEIR set"):
        call_command("evaluate_retrieval", dataset=str(tmp_path))


def test_evaluate_retrieval__a_database_lacking_a_migration_stops_before_loading_anything(tmp_path):
    from django.core.management.base import CommandError
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    dataset = tmp_path / "tiny"
    _write_beir(dataset)
    latest = next(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "knowledge")
    MigrationRecorder.Migration.objects.filter(app="knowledge", name=latest).delete()  # rolled back

    with pytest.raises(CommandError, match=rf"knowledge\.{latest}.*run `python manage\.py migrate`"):
        call_command("evaluate_retrieval", dataset=str(dataset))

    assert not Tenant.objects.filter(slug="eval-tiny").exists()
    assert not Chunk.objects.exists()
