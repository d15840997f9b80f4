"""Re-rankers and ranking profiles: the feature blend, the cross-encoder step, versions in force."""

import pytest

from knowledge.embedding import cross_encoder
from knowledge.models import Chunk, RankingProfile
from knowledge.ranking import Ranking
from knowledge.retrieval.rerank import Candidate, CrossEncoderReranker, FeatureReranker
from knowledge.selectors import ranking_for
from knowledge.services.indexing import sources_index
from knowledge.services.ranking import WEIGHT_FIELDS, ranking_profile_publish
from tests import factories

SEARCH = "/api/v1/search/"


def _ranking(**weights) -> Ranking:
    return Ranking(**{**Ranking.from_settings().__dict__, **weights})


def test_feature_reranker__features_break_near_ties_but_not_clear_relevance():
    ranking = _ranking(relevance_weight=1.0, stock_weight=0.2, margin_weight=0.0, conversion_weight=0.0)
    candidates = [
        Candidate("best", 1.00, {"stock": 0.0}),
        Candidate("near-tie-out", 0.50, {"stock": 0.0}),
        Candidate("near-tie-in", 0.49, {"stock": 1.0}),
        Candidate("worst", 0.00, {"stock": 1.0}),
    ]

    order = [c.id for c in FeatureReranker(ranking).run("q", candidates)]

    assert order == ["best", "near-tie-in", "near-tie-out", "worst"]


def test_feature_reranker__a_passage_without_features_is_neutral_not_penalized():
    ranking = _ranking(relevance_weight=1.0, stock_weight=1.0, margin_weight=0.0, conversion_weight=0.0)
    candidates = [
        Candidate("in", 0.5, {"stock": 1.0}),
        Candidate("policy", 0.5, {}),
        Candidate("out", 0.5, {"stock": 0.0}),
    ]

    order = [c.id for c in FeatureReranker(ranking).run("q", candidates)]

    assert order == ["in", "policy", "out"]  # the policy counts as the pool's mean stock (0.5)


def test_feature_reranker__equal_scores_keep_the_incoming_order_and_empty_input_is_empty():
    ranking = _ranking(margin_weight=0, stock_weight=0, conversion_weight=0, freshness_weight=0)

    assert [c.id for c in FeatureReranker(ranking).run("q", [Candidate(i, 1.0) for i in "abc"])] == ["a", "b", "c"]
    assert FeatureReranker(ranking).run("q", []) == []


@pytest.mark.django_db
def test_ranking_profile_publish__adds_versions_and_the_newest_is_in_force():
    tenant = factories.TenantFactory()
    assert ranking_for(tenant_id=tenant.pk) == Ranking.from_settings()
    values = {f: getattr(Ranking.from_settings(), f) for f in WEIGHT_FIELDS}

    first = ranking_profile_publish(tenant=tenant, values={**values, "vector_weight": 2.0}, note="more semantic")
    second = ranking_profile_publish(tenant=tenant, values={**values, "rrf_k": 30})

    assert (first.version, second.version) == (1, 2)
    in_force = ranking_for(tenant_id=tenant.pk)
    assert (in_force.version, in_force.rrf_k, in_force.vector_weight) == (2, 30, values["vector_weight"])
    assert RankingProfile.objects.get(pk=first.pk).vector_weight == 2.0  # history unchanged


@pytest.mark.django_db
def test_ranking_profile_publish__out_of_range_weights_are_refused_and_nothing_is_stored():
    from django.core.exceptions import ValidationError

    tenant = factories.TenantFactory()
    values = {f: getattr(Ranking.from_settings(), f) for f in WEIGHT_FIELDS}

    with pytest.raises(ValidationError) as error:
        ranking_profile_publish(tenant=tenant, values={**values, "stock_weight": -1, "rrf_k": 0})

    assert {"stock_weight", "rrf_k"} <= set(error.value.message_dict)
    assert not RankingProfile.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_ranking_profile_admin__an_editor_publishes_a_version_prefilled_with_the_weights_in_force(client):
    tenant = factories.TenantFactory()
    client.force_login(factories.staff_editor())
    url = "/admin/knowledge/rankingprofile/add/"

    form = client.get(url, {"tenant": tenant.pk})
    values = {f: getattr(Ranking.from_settings(), f) for f in WEIGHT_FIELDS}
    response = client.post(url, {"tenant": tenant.pk, "note": "stock first", **values, "stock_weight": 0.5})
    bad = client.post(url, {"tenant": tenant.pk, **values, "vector_weight": "lots"})

    assert form.status_code == 200 and f'value="{values["rrf_k"]}"' in form.content.decode()
    assert response.status_code == 302
    assert ranking_for(tenant_id=tenant.pk).stock_weight == 0.5
    assert bad.status_code == 200 and "Enter a number" in bad.content.decode()
    assert RankingProfile.objects.filter(tenant=tenant).count() == 1


def test_cross_encoder_reranker__orders_the_head_by_its_scores_and_keeps_the_tail(tiny_cross_encoder):
    texts = {i: f"passage number {i} about kettles" if i % 2 else f"drill text {i}" for i in range(6)}
    step = CrossEncoderReranker(tiny_cross_encoder, lambda ids: {i: texts[i] for i in ids}, depth=4)
    candidates = [Candidate(i, 1.0 - i / 10) for i in range(6)]

    out = step.run("electric kettle", candidates)

    expected = cross_encoder(tiny_cross_encoder).predict([("electric kettle", texts[i]) for i in range(4)])
    head = sorted(range(4), key=lambda i: -expected[i])
    assert [c.id for c in out] == [*head, 4, 5]
    assert step.version == "tiny-cross-encoder"


@pytest.mark.django_db
def test_search_api__with_a_cross_encoder_configured_it_reranks_and_is_named(
    active_space, settings, tiny_cross_encoder
):
    settings.RERANKER_MODEL = tiny_cross_encoder
    tenant = factories.TenantFactory()
    products = [factories.product(tenant, title=f"Electric Kettle model {i}", brand="Brew") for i in range(5)]
    sources_index("product", [p.pk for p in products], drain=False)
    values = {f: getattr(Ranking.from_settings(), f) for f in WEIGHT_FIELDS}
    features_off = {"margin_weight": 0, "stock_weight": 0, "conversion_weight": 0, "freshness_weight": 0}
    ranking_profile_publish(tenant=tenant, values={**values, **features_off})
    _, raw = factories.api_key(tenant)

    body = factories.api_client(raw).get(SEARCH, {"q": "electric kettle", "page_size": 50}).json()

    assert body["versions"]["reranker"] == "cross_encoder@tiny-cross-encoder+feature@v1"
    chunks = {c.citation_id: c for c in Chunk.objects.filter(tenant=tenant, retired_at__isnull=True)}
    found = [chunks[r["citation_id"]] for r in body["results"]]
    predicted = cross_encoder(tiny_cross_encoder).predict([("electric kettle", f"{c.title}\n{c.text}") for c in found])
    assert len(found) == 5 and list(predicted) == sorted(predicted, reverse=True)  # the cross-encoder's order
