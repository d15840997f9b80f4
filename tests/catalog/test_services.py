import pytest
from django.core.exceptions import ValidationError

from catalog import services
from catalog.models import Product
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("attributes", [["red", "blue"], "red", 7, None])
def test_product_update__attributes_must_be_an_object_and_nothing_changes(attributes):
    product = factories.product(title="Desk fan", attributes={"blades": 5})

    with pytest.raises(ValidationError) as error:
        services.product_update(product, attributes=attributes)

    assert "attributes" in error.value.message_dict
    assert Product.objects.get(pk=product.pk).attributes == {"blades": 5}


def test_product_update__saves_only_what_it_changed_not_the_workers_columns():
    product = factories.product(title="Desk fan")
    stale = Product.objects.get(pk=product.pk)
    Product.objects.filter(pk=product.pk).update(indexed_hash="worker-wrote-this")

    services.product_update(stale, title="Tower fan")

    assert Product.objects.get(pk=product.pk).indexed_hash == "worker-wrote-this"


def test_product_update__a_change_marks_the_row_pending_and_bumps_its_version():
    product = factories.product(title="Desk fan")
    Product.objects.filter(pk=product.pk).update(indexed_hash=product.content_hash)
    product.refresh_from_db()

    services.product_update(product, title="Tower fan")

    product.refresh_from_db()
    assert product.index_pending and product.version == 2 and product.index_status()[0] == "pending"
