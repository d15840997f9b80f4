"""The storefront demo page: pick a demo key (tenant and customer group), ask, watch the answer stream in."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from demo.tenants import TENANTS
from governance.models import ApiKey


def demo_keys() -> list[dict]:
    """The documented public demo keys that exist (and are neither revoked nor expired) in this database."""
    live = set(ApiKey.objects.usable().values_list("prefix", flat=True))
    keys = []
    for spec in TENANTS:
        for key in spec.api_keys:
            if key.prefix in live:
                group = next((g.name for g in spec.groups if g.code == key.group), "Retail (no group)")
                keys.append({"tenant": spec.name, "group": group, "name": key.name, "key": key.raw_key(spec.slug)})
    return keys


@require_GET
def storefront_demo(request):
    return render(request, "storefront/index.html", {"keys": demo_keys()})
