"""Every API call needs a caller with a tenant: an API key, or a staff session that names one."""

import re

from rest_framework import exceptions, permissions

from catalog.models import CustomerGroup, Tenant
from governance.authentication import KEYWORD, Caller

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,50}\Z")  # Tenant.slug and CustomerGroup.code: SlugField(max_length=50)


def caller_for_request(request) -> Caller | None:
    """Return the request's Caller: from its API key, or for staff from ?tenant= (and ?customer_group=)."""
    if isinstance(request.auth, Caller):
        return request.auth
    user = request.user
    if not (user and user.is_authenticated and user.is_staff):
        return None
    slug = request.query_params.get("tenant")
    if not slug:
        raise exceptions.ValidationError({"tenant": "Staff sessions must name a tenant: ?tenant=<slug>."})
    tenant = Tenant.objects.filter(slug=slug).first() if SLUG_RE.match(slug) else None
    if tenant is None:
        raise exceptions.ValidationError({"tenant": f"No tenant {slug[:50]!r}."})
    group_code = request.query_params.get("customer_group")
    group = None
    if group_code:
        group = (
            CustomerGroup.objects.filter(tenant=tenant, code=group_code).first() if SLUG_RE.match(group_code) else None
        )
        if group is None:
            raise exceptions.ValidationError({"customer_group": f"No customer group {group_code[:50]!r} in {slug}."})
    return Caller(tenant=tenant, customer_group=group)


class HasTenant(permissions.BasePermission):
    message = f"Authenticate with 'Authorization: {KEYWORD} <key>'."

    def has_permission(self, request, view):
        caller = caller_for_request(request)
        if caller is None:
            if not request.successful_authenticator:
                # DRF would raise a bare NotAuthenticated here, dropping the hint; keep it in the 401.
                raise exceptions.NotAuthenticated(self.message)
            return False
        request.caller = caller
        return True
