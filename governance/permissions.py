"""Every API call needs a caller with a tenant: an API key, or a staff session that names one."""

from rest_framework import exceptions, permissions

from catalog.models import CustomerGroup, Tenant
from governance.authentication import Caller


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
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise exceptions.ValidationError({"tenant": f"No tenant {slug!r}."})
    group_code = request.query_params.get("customer_group")
    group = None
    if group_code:
        group = CustomerGroup.objects.filter(tenant=tenant, code=group_code).first()
        if group is None:
            raise exceptions.ValidationError({"customer_group": f"No customer group {group_code!r} in {slug}."})
    return Caller(tenant=tenant, customer_group=group)


class HasTenant(permissions.BasePermission):
    message = "Authenticate with 'Authorization: Api-Key <key>'."

    def has_permission(self, request, view):
        caller = caller_for_request(request)
        if caller is None:
            return False
        request.caller = caller
        return True
