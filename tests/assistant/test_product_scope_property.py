"""A property over generated catalogs: a question about one product never cites another product's passage.

Each example builds a small catalog of its own (a new tenant) whose products share their nouns, adjectives and
features, gives some of them customer Q&A, indexes it with the real model, and asks about one product in the
words of another. Whatever the words, the answer draws on that product's content and the policies only, and
states none of the other products' figures.
"""

import itertools
from dataclasses import dataclass
from decimal import Decimal

import hypothesis
import pytest
from hypothesis import strategies as st

from catalog import services as catalog_services
from governance.models import AnswerCitation, AnswerRecord
from knowledge.models import Chunk
from tests import factories
from tests.assistant.conftest import index_all

pytestmark = pytest.mark.django_db

BRANDS = ("Zelo", "Marvik", "Quorra", "Brisko")
NOUNS = ("headphones", "speaker", "kettle", "drill")
ADJECTIVES = ("wireless", "quiet", "compact", "cordless")
FEATURES = ("battery", "cable", "case", "charger")
QUESTIONS = (
    "How long does the {feature} of the {adjective} {noun} last?",
    "Does the {noun} come with a {feature}?",
    "Tell me about the {adjective} {noun} {feature}",
)
_tenants = itertools.count(1)


@dataclass(frozen=True)
class Spec:
    adjective: str
    noun: str
    feature: str
    with_qa: bool


@dataclass
class Made:
    handle: str
    pk: int
    hours: int


SPECS = st.builds(Spec, st.sampled_from(ADJECTIVES), st.sampled_from(NOUNS), st.sampled_from(FEATURES), st.booleans())


def _catalog(specs: list[Spec]):
    """A new tenant with one product per spec (each with its own figure), a SKU each, Q&A and a policy."""
    tenant = factories.TenantFactory(slug=f"generated-{next(_tenants)}")
    category = factories.CategoryFactory(tenant=tenant, slug="things", name="Things")
    retail = factories.PriceListFactory(tenant=tenant, code="retail", currency="EUR")
    products, skus, documents, made = [], [], [], []
    for i, spec in enumerate(specs):
        brand, hours = BRANDS[i], 11 + 7 * i  # distinct figures: another product's would show in an answer
        product = factories.product(
            tenant, category, handle=f"{brand.lower()}-{spec.noun}", title=f"{brand} {spec.adjective} {spec.noun}",
            brand=brand, description=f"The {spec.adjective} {spec.noun} comes with a {spec.feature}. "
            f"Its {spec.feature} lasts {hours} hours.",
        )  # fmt: skip
        sku = factories.sku(product, code=f"{brand.upper()}-{i}")
        catalog_services.price_set(price_list=retail, sku=sku, amount=Decimal(20 + i))
        if spec.with_qa:
            documents.append(
                factories.document(
                    tenant,
                    slug=f"{brand.lower()}-qa",
                    kind="qa",
                    product=product,
                    title=f"{spec.feature}?",
                    question=f"Does the {spec.noun} have a {spec.feature}?",
                    body=f"Yes, the {spec.adjective} {spec.noun} has a {spec.feature} rated for {hours} hours.",
                )  # fmt: skip
            )
        products.append(product)
        skus.append(sku)
        made.append(Made(product.handle, product.pk, hours))
    policy = factories.policy(tenant, slug="returns", title="Returns", body="Return any item within 30 days.")
    index_all(products=products, skus=skus, policies=[policy], documents=documents)
    _, raw = factories.api_key(tenant)
    return factories.api_client(raw), made


@hypothesis.settings(
    max_examples=15, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    specs=st.lists(SPECS, min_size=2, max_size=4),
    asked=st.integers(min_value=0, max_value=3),
    worded_like=st.integers(min_value=0, max_value=3),
    template=st.sampled_from(QUESTIONS),
)
def test_chat__a_products_answer_never_cites_another_product(active_space, specs, asked, worded_like, template):
    client, made = _catalog(specs)
    target, words = made[asked % len(made)], specs[worded_like % len(specs)]
    question = template.format(adjective=words.adjective, noun=words.noun, feature=words.feature)

    response = client.post("/ai/v1/chat", {"question": question, "product": target.handle}, format="json")

    body = response.json()
    assert response.status_code == 200, body
    assert (body["product"], body["scope"]) == (target.handle, "product")
    cited = set(AnswerCitation.objects.filter(answer_id=body["answer_id"]).values_list("chunk__product_id", flat=True))
    assert cited <= {target.pk, None}, (question, body["citations"])
    retrieved = [row["chunk_id"] for row in AnswerRecord.objects.get(pk=body["answer_id"]).retrieved]
    kinds = set(Chunk.objects.filter(pk__in=retrieved).values_list("product_id", "source_kind"))
    assert {product for product, _ in kinds} <= {target.pk, None}
    assert {kind for product, kind in kinds if product is None} <= {"policy"}
    for other in made:
        if other is not target:
            assert f"{other.hours} hours" not in body["answer"], (question, body["answer"])
