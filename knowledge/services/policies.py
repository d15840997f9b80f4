"""Policies: the working copy is edited; publishing freezes it into an immutable, numbered version."""

from django.db import transaction
from django.db.models import Max

from catalog.models import Tenant
from core.indexable import index_mark_changed, index_schedule
from knowledge.models import Policy, PolicyVersion, SourceKind
from knowledge.services.indexing import chunks_retire

POLICY_FIELDS = ("slug", "kind", "locale", "region", "title", "body")


@transaction.atomic
def policy_create(*, tenant: Tenant, published_by=None, **fields) -> Policy:
    policy = Policy(tenant=tenant, **fields)
    policy.full_clean(exclude=["current_version"])
    policy.save()
    return policy_publish(policy, published_by=published_by)


@transaction.atomic
def policy_update(policy: Policy, *, published_by=None, **fields) -> Policy:
    """Save the working copy and publish it as a new version when its title or body changed."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"cannot set {sorted(unknown)} on Policy")
    retargeted = [n for n in ("slug", "kind", "locale", "region") if n in fields and getattr(policy, n) != fields[n]]
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    saved = [*fields, "updated_at"]  # never the worker's bookkeeping columns
    if retargeted:  # the indexed passages carry these: re-index even without a new version
        index_mark_changed(policy)
        saved += ["index_changed_at", "index_error", "index_attempts"]
        index_schedule(SourceKind.POLICY, [policy.pk])
    policy.save(update_fields=saved)
    return policy_publish(policy, published_by=published_by)


@transaction.atomic
def policy_publish(policy: Policy, *, published_by=None) -> Policy:
    """Freeze the working copy as version N+1 (no-op when it equals the current version)."""
    policy = Policy.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=policy.pk)
    current = policy.current_version
    if current is not None and (current.title, current.body) == (policy.title, policy.body):
        return policy
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion.objects.create(
        policy=policy, number=number, title=policy.title, body=policy.body, published_by=published_by
    )
    policy.current_version = version
    index_mark_changed(policy)
    policy.save(update_fields=["current_version", "index_changed_at", "index_error", "index_attempts", "updated_at"])
    index_schedule(SourceKind.POLICY, [policy.pk])
    return policy


@transaction.atomic
def policy_delete(policy: Policy) -> None:
    """Delete a policy; its versions' chunks stay readable for citations but leave search."""
    chunks_retire(SourceKind.POLICY, [policy.pk])
    Policy.objects.filter(pk=policy.pk).update(current_version=None)
    policy.delete()
