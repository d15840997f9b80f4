import math

import pytest

from knowledge.retrieval.metrics import evaluate, mrr_at, ndcg_at, recall_at


def test_ndcg_at__perfect_and_shifted_rankings():
    relevant = {"a": 1, "b": 1}

    assert ndcg_at(["a", "b", "x"], relevant) == pytest.approx(1.0)
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["x", "a", "b"], relevant) == pytest.approx(expected)


def test_ndcg_at__uses_linear_gains_and_cuts_at_k():
    relevant = {"a": 2, "b": 1}

    assert ndcg_at(["b", "a"], relevant) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert ndcg_at(["x"] * 10 + ["a"], relevant, k=10) == 0.0


def test_recall_at__counts_relevant_in_the_first_k():
    relevant = {"a": 1, "b": 1, "c": 0}

    assert recall_at(["a", "x", "b"], relevant, k=2) == 0.5
    assert recall_at(["a", "b"], relevant, k=100) == 1.0
    assert recall_at(["a"], {}, k=10) == 0.0


def test_mrr_at__is_the_reciprocal_rank_of_the_first_hit():
    assert mrr_at(["x", "y", "a"], {"a": 1}) == pytest.approx(1 / 3)
    assert mrr_at(["x"] * 10 + ["a"], {"a": 1}, k=10) == 0.0


def test_evaluate__averages_over_judged_queries_and_a_missing_run_scores_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}

    figures = evaluate({"q1": ["a"]}, qrels)

    assert figures == {"ndcg@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5}
