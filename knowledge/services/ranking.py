"""Ranking profiles: publish a tenant's next fusion and feature weights; read the version in force."""

from django.db import transaction
from django.db.models import Max

from catalog.models import Tenant
from knowledge.models import RankingProfile
from knowledge.ranking import WEIGHT_FIELDS


@transaction.atomic
def ranking_profile_publish(*, tenant: Tenant, values: dict, user=None, note: str = "") -> RankingProfile:
    """Add the tenant's next ranking version; earlier versions stay as they were (answers name them)."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()  # serializes version numbers per tenant
    last = RankingProfile.objects.filter(tenant=tenant).aggregate(m=Max("version"))["m"] or 0
    profile = RankingProfile(
        tenant=tenant, version=last + 1, note=note, created_by=user, **{f: values[f] for f in WEIGHT_FIELDS}
    )
    profile.full_clean()
    profile.save()
    return profile
