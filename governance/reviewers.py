"""Grant and revoke the compliance reviewer role: a tenant's `catalog.review_records` object permission
(django-guardian) plus membership of the "Compliance reviewers" group, which holds the model permissions
the admin needs to show records, holds, retention policies, purge runs and the audit log.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from guardian.shortcuts import assign_perm, get_perms, remove_perm

from catalog.models import Tenant
from governance.audit import audit_record
from governance.review import REVIEW_PERMISSION, tenant_list_reviewed

REVIEWER_GROUP = "Compliance reviewers"
# What the role needs in the admin (app_label, codename); the tenant grant decides which rows it sees.
REVIEWER_PERMISSIONS = (
    ("governance", "view_answerrecord"),
    ("governance", "view_answerclaim"),
    ("governance", "view_answercitation"),
    ("governance", "view_legalhold"),
    ("governance", "view_retentionpolicy"),
    ("governance", "view_purgerun"),
    ("governance", "view_auditevent"),
)


def reviewer_group_ensure() -> Group:
    """Return the reviewers' group, created with its model permissions if it is missing."""
    group, _ = Group.objects.get_or_create(name=REVIEWER_GROUP)
    wanted = Permission.objects.none()
    for app_label, codename in REVIEWER_PERMISSIONS:
        wanted |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    group.permissions.add(*wanted)
    return group


@transaction.atomic
def reviewer_grant(*, user, tenant: Tenant, actor=None) -> bool:
    """Make `user` a reviewer of `tenant` (staff, in the group, with the tenant's permission); False if already."""
    already = "review_records" in get_perms(user, tenant)
    if not user.is_staff:
        user.is_staff = True  # the review happens in the admin
        user.save(update_fields=["is_staff"])
    user.groups.add(reviewer_group_ensure())
    if already:
        return False
    assign_perm(REVIEW_PERMISSION, user, tenant)
    audit_record(action="reviewer.grant", actor=actor, tenant=tenant, obj=user)
    return True


@transaction.atomic
def reviewer_revoke(*, user, tenant: Tenant, actor=None) -> bool:
    """Take `tenant` from `user`'s reviews (and the group once no tenant is left); False if they had none."""
    if "review_records" not in get_perms(user, tenant):
        return False
    remove_perm(REVIEW_PERMISSION, user, tenant)
    if not tenant_list_reviewed(user=user).exists():
        user.groups.remove(*Group.objects.filter(name=REVIEWER_GROUP))
    audit_record(action="reviewer.revoke", actor=actor, tenant=tenant, obj=user)
    return True


@transaction.atomic
def record_reads_audit(*, reviewer, records, action: str, via: str = "api") -> None:
    """Audit a read of `records` (one event per tenant read; one without records for an empty read).

    The detail names the records and the key, never their content or the search text.
    """
    by_tenant: dict[int, tuple] = {}
    for record in records:
        tenant, ids = by_tenant.get(record.tenant_id, (record.tenant, []))
        ids.append(str(record.pk))
        by_tenant[record.tenant_id] = (tenant, ids)
    key_tenant = reviewer.api_key.tenant if reviewer.api_key is not None else None
    key = reviewer.api_key.prefix if reviewer.api_key is not None else None
    if not by_tenant:
        audit_record(
            action=action, actor=reviewer.user, tenant=key_tenant, detail={"via": via, "count": 0, "api_key": key}
        )
    for tenant, ids in by_tenant.values():
        obj = records[0] if len(records) == 1 else None
        detail = {"via": via, "count": len(ids), "ids": ids, "api_key": key}
        audit_record(action=action, actor=reviewer.user, tenant=tenant, obj=obj, detail=detail)
