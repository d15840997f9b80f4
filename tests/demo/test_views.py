"""The storefront demo page: the demo keys that exist, and the page that streams an answer."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from governance.models import ApiKey, hash_key
from tests import factories

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


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


def test_demo__left_out_with_django_demo_0_the_product_runs_without_it():
    probe = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.urls import Resolver404, resolve\n"
        "import config.urls, sys\n"
        "try:\n    resolve('/')\nexcept Resolver404:\n    print('no demo page')\n"
        "print('demo installed' if 'demo' in settings.INSTALLED_APPS else 'demo absent')\n"
        "print('demo imported' if any(m == 'demo' or m.startswith('demo.') for m in sys.modules) else 'not imported')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1", "DJANGO_DEMO": "0"}

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["no", "demo", "page", "demo", "absent", "not", "imported"]
