"""`manage.py evaluate_answers`: a tiny product QA set in the hetPQA layout, imported as a feed and asked through
the assistant pipeline; the figures, the relevance model's held-out products, and bad input."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assistant.evaluation.dataset import pqa_read
from catalog.models import Product, Tenant
from knowledge.models import Chunk, Document, IngestionRun, RelevanceModel

pytestmark = pytest.mark.django_db

HEADPHONES, PUZZLE = "B00TESTA01", "B00TESTB02"
SNIPPETS = [  # _id, asin, source, text
    ("ha1", HEADPHONES, "attribute", 'battery_life:  { value:"30 hours" }'),
    ("ha2", HEADPHONES, "bullet", "The headphones fold flat for travel in the included case."),
    ("ha3", HEADPHONES, "review", "The noise cancelling works great on long flights."),
    ("ha4", HEADPHONES, "CQA", "Yes, the headphones connect over bluetooth to any phone."),
    ("hb1", PUZZLE, "Desc", "A wooden jigsaw puzzle with 500 pieces for ages 8 and up."),
    ("hb2", PUZZLE, "attribute", "material:  { value:wood }"),
    ("hb3", PUZZLE, "review", "My kids love this puzzle; the pieces fit tightly."),
]
QUESTIONS = [  # _id, asin, text, has_positive
    ("q1", HEADPHONES, "how long does the battery last?", True),
    ("q2", HEADPHONES, "do the headphones connect over bluetooth to my phone?", True),
    ("q3", PUZZLE, "how many pieces does the jigsaw puzzle have?", True),
    ("q4", PUZZLE, "can the puzzle go in the bath?", False),
    ("q5", HEADPHONES, "are replacement ear pads sold in japan?", False),
]
LABELS = [  # query, snippet, label (qrels hold the questions with a relevant snippet; pairs.tsv all of them)
    ("q1", "ha1", 1), ("q1", "ha2", 0), ("q2", "ha4", 1), ("q2", "ha3", 0), ("q3", "hb1", 1), ("q3", "hb2", 0),
    ("q4", "hb2", 0), ("q4", "hb3", 0), ("q5", "ha3", 0),
]  # fmt: skip
KEYS = [
    "answered_rate", "abstain_rate_unanswerable", "first_citation_relevant", "citation_precision",
    "unjudged_citation_share", "cross_product_citations", "token_f1", "p50_ms", "p95_ms", "questions",
    "reported_questions", "model", "baseline.bm25.first_citation_relevant", "baseline.dense.first_citation_relevant",
    "baseline.fused.first_citation_relevant", "baseline.first_citation_relevant", "baseline.bm25.all.first_relevant",
    "baseline.dense.all.first_relevant", "baseline.fused.all.first_relevant", "ranking.first_relevant",
    "answerable", "answered_answerable", "unanswerable", "citations",
]  # fmt: skip
SHARES = [key for key in KEYS if key.endswith(("_rate", "_relevant", "_precision", "_share", "_unanswerable"))]


def write_set(root, *, skip=()):
    """Write the set in the hetPQA layout under `root` (a folder named like the set), leaving out `skip`."""
    (root / "qrels").mkdir(parents=True)
    files = {
        "corpus.jsonl": [{"_id": i, "title": "", "text": t, "asin": a, "source": s} for i, a, s, t in SNIPPETS],
        "queries_all.jsonl": [{"_id": i, "text": t, "asin": a, "has_positive": p} for i, a, t, p in QUESTIONS],
    }
    for name, rows in files.items():
        if name not in skip:
            (root / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    judged = {q for q, _, label in LABELS if label}
    qrels = "".join(f"{q}\t{d}\t{label}\n" for q, d, label in LABELS if q in judged)
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    source = {i: s for i, _, s, _ in SNIPPETS}
    pairs = "".join(f"{n}\t{q}\t{d}\t{label}\thigh\t{source[d]}\n" for n, (q, d, label) in enumerate(LABELS))
    (root / "pairs.tsv").write_text("qa_pair_id\tquery-id\tcorpus-id\tlabel\tconfidence\tsource\n" + pairs)
    return root


def _evaluate(dataset, out, **options) -> dict:
    call_command("evaluate_answers", dataset=str(dataset), out=str(out), **options)
    return json.loads(out.read_text())


def _model(train, report, **fields) -> RelevanceModel:
    split = {"tiny": {"unit": "asin", "train": train, "calibrate": [], "report": report}}
    return RelevanceModel.objects.create(
        name="pqa", version=1, path="var/models/relevance/absent", threshold=0.5, split=split, is_active=True,
        **fields,
    )  # fmt: skip


def test_evaluate_answers__imports_the_set_as_a_feed_and_reports_every_figure(active_space, tmp_path):
    dataset = write_set(tmp_path / "tiny")

    figures = _evaluate(dataset, tmp_path / "out" / "answers.json")

    assert [key for key in KEYS if key not in figures] == []
    for key in SHARES:
        assert figures[key] is None or 0.0 <= figures[key] <= 1.0, key
    assert figures["model"] == "none" and figures["token_f1"] is None
    assert "no written answers" in figures["token_f1_note"]
    assert figures["questions"] == figures["reported_questions"] == 5
    assert (figures["answerable"], figures["unanswerable"]) == (3, 2)
    assert figures["cross_product_citations"] == 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert (
        figures["baseline.first_citation_relevant"]
        == max(figures[f"baseline.{name}.first_citation_relevant"] for name in ("bm25", "dense", "fused"))
        or figures["answered_answerable"] == 0
    )
    # Loaded through the importer: one applied run, one product per ASIN visible to the evaluation's group.
    tenant = Tenant.objects.get(slug="eval-answers-tiny")
    assert IngestionRun.objects.filter(tenant=tenant, state=IngestionRun.State.APPLIED).count() == 1
    assert set(Product.objects.filter(tenant=tenant).values_list("title", flat=True)) == {
        f"Product {HEADPHONES}",
        f"Product {PUZZLE}",
    }
    kinds = dict(Document.objects.filter(tenant=tenant).values_list("slug", "kind"))
    assert kinds == {"ha1": "spec", "ha2": "spec", "ha3": "review", "ha4": "qa", "hb1": "spec", "hb2": "spec",
                     "hb3": "review"}  # fmt: skip
    assert Document.objects.get(tenant=tenant, slug="ha4").body == SNIPPETS[3][3]  # the answer only
    # Each snippet is one passage whose citation names it, attached to its product.
    leaves = Chunk.objects.filter(tenant=tenant, source_kind="doc", retired_at__isnull=True, is_leaf=True)
    assert sorted(leaves.values_list("source_key", flat=True)) == sorted(i for i, *_ in SNIPPETS)
    assert figures["snippets"] == 7 and figures["snippets_split"] == 0
    puzzle = Product.objects.get(tenant=tenant, title=f"Product {PUZZLE}")
    assert set(leaves.filter(source_key__startswith="hb").values_list("product_id", flat=True)) == {puzzle.pk}


def test_evaluate_answers__leaves_out_the_products_the_active_model_learned_from(active_space, tmp_path):
    dataset = write_set(tmp_path / "tiny")
    _model(train=[HEADPHONES], report=[PUZZLE])

    figures = _evaluate(dataset, tmp_path / "answers.json")

    assert figures["model"] == "pqa@v1"
    assert (figures["questions"], figures["reported_questions"], figures["excluded_questions"]) == (5, 2, 3)
    assert (figures["answerable"], figures["unanswerable"], figures["products"]) == (1, 1, 1)
    tenant = Tenant.objects.get(slug="eval-answers-tiny")
    assert list(Product.objects.filter(tenant=tenant).values_list("title", flat=True)) == [f"Product {PUZZLE}"]


def test_evaluate_answers__a_set_the_model_never_saw_is_reported_whole_and_a_rerun_replaces_the_tenant(
    active_space, tmp_path
):
    dataset = write_set(tmp_path / "tiny")
    _evaluate(dataset, tmp_path / "first.json", limit_questions=1)
    first = Tenant.objects.get(slug="eval-answers-tiny")
    RelevanceModel.objects.create(
        name="pqa", version=2, path="absent", threshold=0.5, is_active=True,
        split={"semipqa": {"unit": "product_group", "train": [HEADPHONES], "calibrate": [], "report": []}},
    )  # fmt: skip

    figures = _evaluate(dataset, tmp_path / "answers.json", limit_questions=2)

    assert figures["model"] == "pqa@v2" and figures["excluded_questions"] == 0
    assert figures["reported_questions"] == 2
    assert list(Tenant.objects.filter(slug__startswith="eval-answers-tiny")) != [first]
    assert Tenant.objects.filter(slug__startswith="eval-answers-tiny").count() == 1


def test_evaluate_answers__refuses_a_model_whose_split_overlaps(tmp_path):
    dataset = write_set(tmp_path / "tiny")
    _model(train=[HEADPHONES], report=[HEADPHONES, PUZZLE])

    with pytest.raises(CommandError, match=r"pqa@v1 lists 1 tiny unit\(s\) both for training"):
        _evaluate(dataset, tmp_path / "answers.json")

    assert not Tenant.objects.filter(slug__startswith="eval-answers-tiny").exists()
    assert not (tmp_path / "answers.json").exists()


BAD_QRELS = "query-id\tcorpus-id\tscore\nq1\tha1\tyes\n"
NO_IDS = json.dumps({"id": "ha1", "asin": HEADPHONES}) + "\n"


@pytest.mark.parametrize(
    ("skip", "files", "options", "message"),
    [
        (("queries_all.jsonl",), {}, {}, r"lacks queries_all\.jsonl"),
        ((), {}, {"product_field": "colour"}, r"unknown product field 'colour'.*has no 'colour'"),
        ((), {}, {"limit_questions": 0}, r"--limit-questions must be at least 1"),
        ((), {"qrels/test.tsv": BAD_QRELS}, {}, r"test\.tsv, line 2: score 'yes' is not a whole number"),
        ((), {"corpus.jsonl": NO_IDS}, {}, r"corpus\.jsonl, row 1: every row needs an _id and a text"),
    ],
)
def test_evaluate_answers__bad_input_is_a_command_error_saying_what_to_fix(tmp_path, skip, files, options, message):
    dataset = write_set(tmp_path / "tiny", skip=skip)
    for name, text in files.items():
        (dataset / name).write_text(text)

    with pytest.raises(CommandError, match=message):
        _evaluate(dataset, tmp_path / "answers.json", **options)

    assert not Tenant.objects.exists()


def test_evaluate_answers__a_missing_folder_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such folder"):
        _evaluate(tmp_path / "nowhere", tmp_path / "answers.json")


def test_pqa_read__finds_the_product_field_both_files_share_and_merges_the_labels(tmp_path):
    root = tmp_path / "semi"
    (root / "qrels").mkdir(parents=True)
    corpus = [{"_id": "s1", "title": "", "text": "colour: red", "attribute": "colour", "product_group": "p1"}]
    (root / "corpus.jsonl").write_text(json.dumps(corpus[0]) + "\n")
    question = {"_id": "7", "text": "what colour?", "product_group": "p1", "split": "dev", "has_positive": True}
    (root / "queries_all.jsonl").write_text(json.dumps(question) + "\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    (root / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\n7\ts1\t1\n")

    data = pqa_read(root)

    assert data.product_field == "product_group" and data.name == "semi"
    assert data.snippets["s1"].product == "p1" and data.snippets["s1"].source == ""
    assert data.relevant("7", "s1") and data.judged("7", "s1") and not data.judged("7", "s2")
