"""`manage.py api_key create|rotate|revoke`: issue, rotate and revoke API keys; a raw key is printed once.

    api_key create NAME --tenant SLUG [--customer-group CODE] [--scope SCOPE ...]
    api_key rotate PREFIX [--overlap-hours H]
    api_key revoke PREFIX [--lineage]

A key is named by its prefix (the 8 characters after `ck_`, shown in the admin), never by its raw value.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from catalog.models import CustomerGroup, Tenant
from governance import keys
from governance.models import ApiKey, Scope

SHOWN_ONCE = "Store it now: it is shown only this once and cannot be recovered."


class Command(BaseCommand):
    help = "Create, rotate or revoke an API key (docs/api.md#api-keys)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|rotate|revoke")
        create = actions.add_parser("create", help="Issue a key that starts a new lineage.")
        create.add_argument("name", help="What the key is for (a storefront, an agent, a compliance tool).")
        create.add_argument("--tenant", required=True, help="The tenant's slug.")
        create.add_argument("--customer-group", help="A customer group's code (default: the retail view).")
        create.add_argument(
            "--scope", action="append", choices=Scope.values, dest="scopes",
            help="A scope the key carries; repeat for several (default: catalog:read and ai:chat).",
        )  # fmt: skip
        rotate = actions.add_parser("rotate", help="Issue the next key of a key's lineage.")
        rotate.add_argument("prefix", help="The key's prefix.")
        rotate.add_argument(
            "--overlap-hours", type=float, default=None,
            help="How long the old key keeps working (default: API_KEY_ROTATION_OVERLAP_HOURS).",
        )  # fmt: skip
        revoke = actions.add_parser("revoke", help="Revoke a key now.")
        revoke.add_argument("prefix", help="The key's prefix.")
        revoke.add_argument("--lineage", action="store_true", help="Revoke every key of the key's lineage.")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def _create(self, *, name, tenant, customer_group, scopes, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        group = None
        if customer_group:
            group = CustomerGroup.objects.filter(tenant=found, code=customer_group).first()
            if group is None:
                raise CommandError(f"No customer group {customer_group!r} in {tenant}.")
        issued = keys.api_key_create(tenant=found, name=name, customer_group=group, scopes=scopes)
        key = issued.key
        self.stdout.write(
            f"Created “{key.name}” for {tenant} (prefix {key.prefix}, lineage {key.lineage}, "
            f"scopes {', '.join(key.scopes)})."
        )
        self.stdout.write(f"key: {issued.raw}")
        self.stdout.write(SHOWN_ONCE)

    def _rotate(self, *, prefix, overlap_hours, **options):
        if overlap_hours is not None and overlap_hours < 0:
            raise CommandError("--overlap-hours cannot be negative.")
        key = _key(prefix)
        overlap = None if overlap_hours is None else timedelta(hours=overlap_hours)
        issued = keys.api_key_rotate(key, overlap=overlap)
        key.refresh_from_db()
        until = timezone.localtime(key.expires_at).isoformat(timespec="minutes")
        self.stdout.write(f"Rotated {key.prefix}: the new key of lineage {key.lineage} has prefix {issued.key.prefix}.")
        self.stdout.write(f"key: {issued.raw}")
        self.stdout.write(SHOWN_ONCE)
        self.stdout.write(f"The old key {key.prefix} works until {until}; after that it gets 401.")

    def _revoke(self, *, prefix, lineage, **options):
        key = _key(prefix)
        if lineage:
            count = keys.api_key_lineage_revoke(key.lineage)
            self.stdout.write(f"Revoked {count} key(s) of lineage {key.lineage}.")
        elif keys.api_key_revoke(key):
            self.stdout.write(f"Revoked {key.prefix}; other keys of lineage {key.lineage} keep working.")
        else:
            self.stdout.write(f"{key.prefix} was revoked already.")


def _key(prefix: str) -> ApiKey:
    key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
    if key is None:
        raise CommandError(f"No API key with prefix {prefix[:20]!r} (the 8 characters after ck_, as in the admin).")
    return key
