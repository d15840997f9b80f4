"""Every API call needs a caller with a tenant: an API key, or a staff session that names one.

API keys carry scopes (core.scopes.Scope). A view names what it needs with `required_scopes` (or the
review API's `required_scope`), or with a permission from `scope_required(...)`; otherwise the path decides:
`/ai/v1/` needs `ai:chat`, the rest of `/api/v1/` (catalog, policies, documents, search, citations)
`catalog:read`. Staff sessions are not limited by scopes (their Django permissions apply).
"""

import re

from rest_framework import exceptions, permissions

from catalog.models import CustomerGroup, Tenant
from core.scopes import Scope
from core.tenancy import Caller
from governance.authentication import KEYWORD

PATH_SCOPES = (("/ai/", Scope.AI_CHAT), ("/api/v1/", Scope.CATALOG_READ))  # first match wins

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
    return Caller.of(tenant, group)


def required_scopes(request, view) -> tuple[str, ...]:
    """Return the scopes an API key needs for this view: declared on the view, else by path."""
    declared = getattr(view, "required_scopes", None) or getattr(view, "required_scope", None)
    if declared:
        return (str(declared),) if isinstance(declared, str) else tuple(str(s) for s in declared)
    if any(isinstance(p, HasScope) for p in view.get_permissions()):
        return ()  # the view's own HasScope decides
    return next(((str(scope),) for prefix, scope in PATH_SCOPES if request.path.startswith(prefix)), ())


def scope_missing(caller: Caller | None, scopes) -> str | None:
    """Return the first scope the caller's API key lacks (None for sessions or when it has them all)."""
    return None if caller is None else caller.scope_missing(scopes)


class HasTenant(permissions.BasePermission):
    message = f"Authenticate with 'Authorization: {KEYWORD} <key>'."

    def has_permission(self, request, view):
        caller = caller_for_request(request)
        if caller is None:
            if not request.successful_authenticator:
                # DRF would raise a bare NotAuthenticated here, dropping the hint; keep it in the 401.
                raise exceptions.NotAuthenticated(self.message)
            return False
        missing = scope_missing(caller, required_scopes(request, view))
        if missing:
            raise exceptions.PermissionDenied(f"This API key lacks the scope {missing!r}.")
        request.caller = caller
        return True


class HasScope(permissions.BasePermission):
    """An API key must hold `scope`; sessions pass (combine with HasTenant or the view's own session rule)."""

    scope = ""

    def has_permission(self, request, view):
        caller = request.auth if isinstance(request.auth, Caller) else None
        missing = scope_missing(caller, (self.scope,))
        if missing:
            raise exceptions.PermissionDenied(f"This API key lacks the scope {missing!r}.")
        return True


def scope_required(scope: str) -> type[HasScope]:
    """Return a permission class requiring `scope` of API keys: `permission_classes = [HasTenant,
    scope_required("records:read")]`."""
    if scope not in Scope.values:
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(Scope.values)}")
    return type(f"HasScope_{scope.replace(':', '_')}", (HasScope,), {"scope": str(scope)})


class HasKeyOrSession(permissions.BasePermission):
    """Any valid API key or signed-in user (the API schema and docs): only /healthz is open to everyone."""

    message = f"Sign in, or send 'Authorization: {KEYWORD} <key>'."

    def has_permission(self, request, view):
        if isinstance(request.auth, Caller) or (request.user and request.user.is_authenticated):
            return True
        raise exceptions.NotAuthenticated(self.message)
