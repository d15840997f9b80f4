"""The storefront demo page: the demo keys that exist, and the page that streams an answer."""

import pytest

from governance.models import ApiKey, hash_key
from tests import factories

pytestmark = pytest.mark.django_db


def test_storefront_demo__page_lists_the_demo_keys_that_exist(admin_client):
    client = admin_client  # the page is for signed-in users only

    ApiKey.objects.filter(prefix__in=["demo0001", "demo0003"]).delete()
    ApiKey.objects.create(
        tenant=factories.TenantFactory(), name="Storefront (retail)", prefix="demo0001",
        key_hash=hash_key("ck_demo0001_acme-retail-demo-key"),
    )  # fmt: skip

    page = client.get("/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "ck_demo0001_acme-retail-demo-key" in html and "ck_demo0003" not in html
    assert "text/event-stream" in html and "/ai/v1/chat" in html
