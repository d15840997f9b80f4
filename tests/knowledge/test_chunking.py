import pytest

from knowledge.chunking import LEAF_MAX, PARENT_MAX, PARENT_MIN, chunk_text
from knowledge.embedding import count_tokens

pytestmark = pytest.mark.model  # loads the embedding model


def _manual(sections: int, sentences: int) -> str:
    parts = []
    for i in range(sections):
        body = " ".join(
            f"Section {i} sentence {j} describes the torque clutch setting in detail." for j in range(sentences)
        )
        parts.append(f"## Section {i}\n\n{body}")
    return "\n\n".join(parts)


def test_chunk_text__parents_hold_300_to_800_tokens_and_leaves_fit_the_model():
    drafts = chunk_text(_manual(sections=8, sentences=25))

    assert all(PARENT_MIN <= d.tokens <= PARENT_MAX for d in drafts[:-1])
    leaves = [leaf for d in drafts for leaf in (d.children or [d])]
    assert all(leaf.tokens <= LEAF_MAX for leaf in leaves)
    assert all(c.parent_anchor == d.anchor for d in drafts for c in d.children)


def test_chunk_text__small_sections_merge_into_one_parent_that_is_its_own_leaf():
    drafts = chunk_text("# Care\n\nWipe with a dry cloth.\n\n# Storage\n\nKeep below 30 °C.")

    assert len(drafts) == 1 and drafts[0].is_leaf and not drafts[0].children
    assert "Wipe" in drafts[0].text and "30 °C" in drafts[0].text


def test_chunk_text__a_long_sentence_without_breaks_is_split_by_words():
    text = " ".join(["batterypack"] * 2000)

    drafts = chunk_text(text)

    leaves = [leaf for d in drafts for leaf in (d.children or [d])]
    assert all(leaf.tokens <= LEAF_MAX for leaf in leaves)
    assert sum(count_tokens([leaf.text])[0] for leaf in leaves) >= count_tokens([text])[0] - len(leaves)


def test_chunk_text__empty_and_whitespace_give_no_chunks():
    assert chunk_text("") == [] and chunk_text(" \n\n \t") == []
