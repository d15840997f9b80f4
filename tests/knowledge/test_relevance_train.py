"""train_reranker: a model trained on a templated product set, its folder, splits, metrics and registry row."""

import json

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import RelevanceModel
from knowledge.relevance import active_scorer
from knowledge.relevance.export import torch_probabilities
from knowledge.relevance.files import META_FILE, ONNX_FILE
from knowledge.relevance.scoring import RelevanceScorer
from knowledge.services.relevance import relevance_model_activate
from tests.relevance_data import held_out_questions, write_product_set

pytestmark = pytest.mark.model


def _scorer(folder, threshold: float) -> RelevanceScorer:
    return RelevanceScorer(version="templated@v1", threshold=threshold, locales=("en",), path=str(folder))


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.RELEVANCE_MODELS_DIR = tmp_path / "models"
    return settings.RELEVANCE_MODELS_DIR


@pytest.mark.django_db
def test_train_reranker__writes_the_folder_registers_the_version_and_keeps_the_split(tmp_path, models_dir, capsys):
    data = write_product_set(tmp_path / "shopqa", count=30, seed=3)

    call_command(
        "train_reranker", "--dataset", str(data), "--out", "tiny", "--max-steps", "4", "--epochs", "1",
        "--max-minutes", "30",
    )  # fmt: skip

    model = RelevanceModel.objects.get()
    folder = models_dir / "tiny-v1"
    meta = json.loads((folder / META_FILE).read_text())
    split = model.split["shopqa"]
    parts = [set(split[p]) for p in ("train", "calibrate", "report")]
    products = {json.loads(line)["asin"] for line in (data / "corpus.jsonl").read_text().splitlines()}
    report_questions = [
        q for q in map(json.loads, (data / "queries_all.jsonl").read_text().splitlines()) if q["asin"] in parts[2]
    ]
    assert (model.label, model.is_active, model.locales) == ("tiny@v1", False, ["en"])
    assert all((folder / name).is_file() for name in (ONNX_FILE, "config.json", "tokenizer.json", "model.safetensors"))
    assert not list(models_dir.glob("*.partial"))
    assert split["unit"] == "asin" and all(parts)
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set().union(*parts) == products
    assert meta["split"] == model.split and meta["threshold"] == model.threshold and meta["version"] == 1
    assert model.metrics["shopqa.report.questions"] == len(report_questions)
    assert model.metrics["train.steps"] == 4 and 0.0 <= model.threshold <= 1.0
    assert {"shopqa.report.first_relevant", "shopqa.report.bm25.first_relevant"} <= model.metrics.keys()
    assert model.datasets == [{"name": "shopqa", "path": str(data.resolve()), "pairs": meta["datasets"][0]["pairs"]}]
    assert "registered tiny@v1" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("files", "missing"),
    [
        ({}, "qrels/train.tsv"),
        ({"pairs.tsv": "query-id\tcorpus-id\tlabel\n"}, "corpus.jsonl"),
        ({"corpus.jsonl": "{}\n", "queries_all.jsonl": "{}\n"}, "qrels/train.tsv"),
    ],
)
def test_train_reranker__a_folder_of_neither_layout_names_what_is_missing(tmp_path, models_dir, files, missing):
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)

    with pytest.raises(CommandError, match=missing.replace(".", r"\.")):
        call_command("train_reranker", "--dataset", str(folder), "--out", "broken")

    assert not RelevanceModel.objects.exists()
    assert not models_dir.exists() or not any(models_dir.iterdir())


@pytest.mark.django_db
def test_train_reranker__refuses_a_missing_folder_and_a_bad_name(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("train_reranker", "--dataset", str(tmp_path / "nowhere"), "--out", "x")
    with pytest.raises(CommandError, match="--out"):
        call_command("train_reranker", "--dataset", str(tmp_path), "--out", "../escape")


def test_trained_model__ranks_and_thresholds_held_out_products(trained_relevance_folder):
    meta = json.loads((trained_relevance_folder / META_FILE).read_text())
    scorer = _scorer(trained_relevance_folder, meta["threshold"])
    relevant_above = irrelevant_above = irrelevant = ranked_first = 0
    questions = held_out_questions()

    for item in questions:
        scores = scorer.score(item.question, [item.relevant, *item.irrelevant])
        relevant_above += scores[0] >= scorer.threshold
        irrelevant_above += sum(s >= scorer.threshold for s in scores[1:])
        irrelevant += len(scores) - 1
        ranked_first += scores[0] == max(scores)

    assert relevant_above / len(questions) > 2 * irrelevant_above / irrelevant
    assert ranked_first / len(questions) > 0.5  # five to six passages each: chance is under 0.2
    assert meta["metrics"]["templated.report.first_relevant"] > meta["metrics"]["templated.report.bm25.first_relevant"]


def test_trained_model__int8_scores_agree_with_torch(trained_relevance_folder):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = str(trained_relevance_folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    item = held_out_questions()[0]
    passages = [item.relevant, *item.irrelevant]

    expected = torch_probabilities(model, tokenizer, [(item.question, p) for p in passages])
    actual = _scorer(trained_relevance_folder, 0.5).score(item.question, passages)

    assert max(abs(a - e) for a, e in zip(actual, expected, strict=True)) < 0.1
    assert max(range(len(actual)), key=actual.__getitem__) == int(expected.argmax())


@pytest.mark.django_db
def test_trained_relevance_model__fixture_registers_the_session_model(trained_relevance_model):
    assert active_scorer() is None

    relevance_model_activate(model=trained_relevance_model)
    scorer = active_scorer()

    assert scorer.version == trained_relevance_model.label == "templated@v1"
    assert scorer.threshold == trained_relevance_model.threshold
    assert "templated" in trained_relevance_model.split
