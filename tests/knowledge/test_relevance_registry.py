"""The relevance model registry and scorer: register a folder, activate, roll back, score with int8 ONNX."""

import json

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import RelevanceModel
from knowledge.relevance import MAX_CANDIDATES, active_scorer
from knowledge.relevance.export import export_check, export_int8
from knowledge.relevance.files import META_FILE, meta_write
from knowledge.services.relevance import relevance_model_activate, relevance_model_register, relevance_model_rollback

pytestmark = pytest.mark.model

PAIRS = [
    ("How heavy is the kettle?", "The kettle weighs 1.2 kg."),
    ("How heavy is the kettle?", "Available in red and blue."),
    ("What colour is it?", "Available in red and blue."),
    ("What colour is it?", "Free shipping on orders over 50 euros."),
]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A folder as train_reranker writes it, from the shipped MiniLM with a fresh one-logit head (untrained)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from knowledge.embedding import default_model_path

    folder = tmp_path_factory.mktemp("relevance") / "plain-v1"
    folder.mkdir()
    model = AutoModelForSequenceClassification.from_pretrained(
        default_model_path(), num_labels=1, local_files_only=True
    )
    tokenizer = AutoTokenizer.from_pretrained(default_model_path(), use_fast=True, local_files_only=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    file = export_int8(model, tokenizer, folder)
    check = export_check(model, tokenizer, file, PAIRS)
    split = {"toyset": {"unit": "asin", "train": ["a1"], "calibrate": ["a2"], "report": ["a3"]}}
    meta = {
        "name": "plain", "version": 1, "datasets": [{"name": "toyset", "path": "/toy", "pairs": 4}],
        "split": split, "metrics": {"toyset.report.first_relevant": 0.5}, "threshold": 0.5, "locales": ["en"],
    }  # fmt: skip
    meta_write(folder, meta)
    return folder, check


def _register(folder, **kwargs) -> RelevanceModel:
    return relevance_model_register(path=folder, **kwargs)


@pytest.mark.django_db
def test_relevance_scorer__none_without_an_active_model(model_folder):
    _register(model_folder[0])

    assert active_scorer() is None


@pytest.mark.django_db
def test_relevance_register__reads_meta_json_and_numbers_versions(model_folder):
    folder, _ = model_folder

    first, second = _register(folder), _register(folder)

    assert (first.name, first.version, second.version) == ("plain", 1, 2)
    assert first.split["toyset"]["report"] == ["a3"]
    assert first.metrics == {"toyset.report.first_relevant": 0.5}
    assert (first.threshold, first.locales, first.is_active) == (0.5, ["en"], False)


@pytest.mark.django_db
def test_relevance_register__a_folder_without_the_model_files_is_refused(tmp_path):
    (tmp_path / META_FILE).write_text(json.dumps({"name": "x"}))

    with pytest.raises(CommandError, match="model-int8.onnx"):
        call_command("relevance_model", "register", str(tmp_path))

    assert not RelevanceModel.objects.exists()


@pytest.mark.django_db
def test_relevance_scorer__int8_scores_agree_with_torch_and_load_once(model_folder):
    folder, check = model_folder
    relevance_model_activate(model=_register(folder))

    scorer = active_scorer()
    scores = scorer.score(PAIRS[0][0], [PAIRS[0][1], PAIRS[1][1]])

    assert check.ok, check
    assert scorer.version == "plain@v1" and scorer.locales == ("en",) and scorer.threshold == 0.5
    assert len(scores) == 2 and all(0.0 < s < 1.0 for s in scores)
    assert active_scorer() is scorer  # cached until the active model changes
    assert scorer.score("q", []) == []
    with pytest.raises(ValueError, match=str(MAX_CANDIDATES)):
        scorer.score("q", ["p"] * (MAX_CANDIDATES + 1))


@pytest.mark.django_db
def test_relevance_scorer__a_long_question_and_passage_are_truncated(model_folder):
    folder, _ = model_folder
    relevance_model_activate(model=_register(folder))

    scores = active_scorer().score("why " * 300, ["a passage " * 400])

    assert len(scores) == 1 and 0.0 < scores[0] < 1.0


@pytest.mark.django_db
def test_relevance_scorer__missing_files_mean_no_scorer(model_folder, tmp_path):
    relevance_model_activate(
        model=RelevanceModel.objects.create(name="gone", version=1, path=str(tmp_path), threshold=0.5)
    )

    assert active_scorer() is None


@pytest.mark.django_db
def test_relevance_activate__one_active_and_rollback_walks_back(model_folder):
    folder, _ = model_folder
    first, second, third = (_register(folder) for _ in range(3))

    for model in (first, second, third):
        relevance_model_activate(model=model)
    assert list(RelevanceModel.objects.filter(is_active=True)) == [third]
    assert active_scorer().version == "plain@v3"

    assert relevance_model_rollback() == second
    assert active_scorer().version == "plain@v2"
    assert relevance_model_rollback() == first
    assert relevance_model_rollback() is None

    assert not RelevanceModel.objects.filter(is_active=True).exists()
    assert active_scorer() is None


@pytest.mark.django_db
def test_relevance_model_command__list_activate_rollback(model_folder, capsys):
    folder, _ = model_folder
    call_command("relevance_model", "register", str(folder))
    call_command("relevance_model", "register", str(folder), "--activate")

    call_command("relevance_model", "activate", "plain@v1")
    call_command("relevance_model", "list")
    listed = capsys.readouterr().out
    call_command("relevance_model", "rollback")

    assert "* plain@v1" in listed and "  plain@v2" in listed
    assert RelevanceModel.objects.get(is_active=True).label == "plain@v2"
    with pytest.raises(CommandError, match="no relevance model 'plain@v9'"):
        call_command("relevance_model", "activate", "plain@v9")
