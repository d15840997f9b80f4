import pytest

from knowledge.models import Document, Policy
from knowledge.services.documents import document_create, document_update
from knowledge.services.policies import policy_create, policy_update
from tests import factories

pytestmark = pytest.mark.django_db


def _mark_indexed(model, pk):
    model.objects.filter(pk=pk).update(indexed_hash=model.objects.get(pk=pk).content_hash)


def test_policy_update__a_new_region_re_indexes_without_a_new_version():
    policy = policy_create(tenant=factories.TenantFactory(), slug="returns-eu", kind="returns", region="EU",
                           title="Returns", body="30 days.")  # fmt: skip
    _mark_indexed(Policy, policy.pk)

    policy_update(Policy.objects.get(pk=policy.pk), region="UK")

    policy = Policy.objects.get(pk=policy.pk)
    assert policy.index_pending and policy.index_changed_at is not None
    assert policy.versions.count() == 1


def test_policy_update__a_new_body_publishes_version_two_and_keeps_version_one():
    policy = policy_create(tenant=factories.TenantFactory(), slug="warranty-eu", kind="warranty", region="EU",
                           title="Warranty", body="Two years.")  # fmt: skip

    policy_update(policy, body="Three years.")

    assert [v.body for v in Policy.objects.get(pk=policy.pk).versions.order_by("number")] == [
        "Two years.",
        "Three years.",
    ]


def test_document_update__a_new_kind_re_indexes_without_a_new_version():
    document = document_create(
        tenant=factories.TenantFactory(), slug="guide", kind="guide", title="Guide", body="Text."
    )
    _mark_indexed(Document, document.pk)

    document_update(Document.objects.get(pk=document.pk), kind="manual")

    document = Document.objects.get(pk=document.pk)
    assert document.index_pending and document.version == 1
