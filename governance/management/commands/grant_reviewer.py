"""python manage.py grant_reviewer USER TENANT_SLUG [--revoke]: assign or take a tenant's compliance review."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Tenant
from governance.review import tenant_list_reviewed
from governance.reviewers import reviewer_grant, reviewer_revoke


class Command(BaseCommand):
    help = "Let USER review TENANT_SLUG's answer records (object permission + reviewers group); --revoke takes it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("tenant_slug")
        parser.add_argument("--revoke", action="store_true", help="Take the tenant's review from the user.")

    def handle(self, *args, username, tenant_slug, revoke, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant {tenant_slug!r}.")
        if revoke:
            changed = reviewer_revoke(user=user, tenant=tenant)
            verb = "no longer reviews" if changed else "did not review"
        else:
            changed = reviewer_grant(user=user, tenant=tenant)
            verb = "now reviews" if changed else "already reviews"
        reviewed = ", ".join(tenant_list_reviewed(user=user).order_by("slug").values_list("slug", flat=True))
        self.stdout.write(f"{username} {verb} {tenant_slug}; reviews: {reviewed or 'nothing'}.")
