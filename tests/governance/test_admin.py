"""The API key admin: the raw key is shown once, only its hash is stored, revoking is an action."""

import pytest

from governance.models import ApiKey, hash_key
from tests import factories
from tests.test_admin import admin_url, form_errors, login_editor, submit

pytestmark = pytest.mark.django_db


def test_api_key_admin__add_shows_the_raw_key_once_and_stores_only_its_hash(client):
    login_editor(client)
    tenant = factories.TenantFactory()

    response = submit(client, admin_url(ApiKey, "add"), {"tenant": tenant.pk, "name": "Web shop"}, follow=True)

    key = ApiKey.objects.get(name="Web shop")
    shown = [str(m) for m in response.context["messages"] if "shown only this once" in str(m)]
    assert len(shown) == 1
    raw = next(word for word in shown[0].split() if word.startswith(f"ck_{key.prefix}_"))
    assert key.key_hash == hash_key(raw) and raw not in key.key_hash
    later = (
        client.get(admin_url(key, "change")).content.decode()
        + client.get(admin_url(ApiKey, "changelist")).content.decode()
    )
    assert raw not in later and key.key_hash not in later


def test_api_key_admin__revoke_action_sets_revoked_at(client):
    login_editor(client)
    key, _ = factories.api_key()
    other, _ = factories.api_key(key.tenant, name="kept")

    response = client.post(
        admin_url(ApiKey, "changelist"), {"action": "revoke", "_selected_action": [key.pk], "index": "0"}, follow=True
    )

    assert "Revoked 1 key" in response.content.decode()
    key.refresh_from_db()
    other.refresh_from_db()
    assert key.revoked_at is not None and other.revoked_at is None


def test_api_key_admin__customer_group_of_another_tenant_is_a_form_error(client):
    login_editor(client)
    tenant, group = factories.TenantFactory(), factories.CustomerGroupFactory()

    response = submit(client, admin_url(ApiKey, "add"), {"tenant": tenant.pk, "customer_group": group.pk, "name": "x"})

    assert f"customer_group: “{group}” belongs to another tenant." in form_errors(response)
    assert not ApiKey.objects.exists()
