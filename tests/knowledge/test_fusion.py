import pytest

from knowledge.retrieval.fusion import RRF_K, reciprocal_rank_fusion


def test_reciprocal_rank_fusion__sums_reciprocal_ranks():
    fused = dict(reciprocal_rank_fusion([["a", "b"], ["b", "c"]]))

    assert fused["b"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused["a"] == pytest.approx(1 / (RRF_K + 1))
    assert fused["c"] == pytest.approx(1 / (RRF_K + 2))


def test_reciprocal_rank_fusion__an_item_both_legs_agree_on_comes_first():
    ranked = [item for item, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "d", "c"]])]

    assert ranked[0] == "b"
    assert set(ranked) == {"a", "b", "c", "d"}


def test_reciprocal_rank_fusion__ties_keep_first_seen_order_and_weights_apply():
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]])] == ["a", "b"]
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])] == ["b", "a"]
    assert reciprocal_rank_fusion([]) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 1.0])
