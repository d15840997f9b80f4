"""`manage.py event_source create|rotate|revoke NAME --tenant SLUG [--overlap-hours H]` (docs/feeds.md).

`create` and `rotate` print the source's new signing secret once; it is stored encrypted and never shown again.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from catalog.models import Tenant
from knowledge.ingestion import event_sources
from knowledge.models import EventSource

SHOWN_ONCE = "Store it now: it is shown only this once and cannot be recovered."


class Command(BaseCommand):
    help = "Create an event source with its signing secret, rotate its secret (with an overlap), or revoke it."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=("create", "rotate", "revoke"))
        parser.add_argument("name", help="The source's name: the <source> in /api/v1/events/<source>/.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument(
            "--overlap-hours", type=float, default=None,
            help="rotate: how long the previous secret still verifies (default: EVENT_SECRET_OVERLAP_HOURS).",
        )  # fmt: skip

    def handle(self, *args, action, name, tenant, overlap_hours, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        if overlap_hours is not None and (action != "rotate" or overlap_hours < 0):
            raise CommandError("--overlap-hours goes with rotate, and cannot be negative.")
        try:
            if action == "create":
                return self._create(found, name)
            source = EventSource.objects.filter(tenant=found, name=name).first()
            if source is None:
                raise CommandError(f"No event source {name!r} in {tenant}.")
            if action == "rotate":
                return self._rotate(source, overlap_hours)
            self._revoke(source)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def _create(self, tenant: Tenant, name: str) -> None:
        issued = event_sources.event_source_create(tenant=tenant, name=name)
        self.stdout.write(f"Created event source {name!r} for {tenant.slug}: POST /api/v1/events/{name}/")
        self.stdout.write(f"secret: {issued.secret}")
        self.stdout.write(SHOWN_ONCE)

    def _rotate(self, source: EventSource, overlap_hours: float | None) -> None:
        overlap = event_sources.default_overlap() if overlap_hours is None else timedelta(hours=overlap_hours)
        issued = event_sources.event_source_rotate(source, overlap=overlap)
        until = timezone.localtime(timezone.now() + overlap)
        self.stdout.write(f"Rotated the secret of {source.name!r}.")
        self.stdout.write(f"secret: {issued.secret}")
        self.stdout.write(SHOWN_ONCE)
        self.stdout.write(f"The previous secret verifies until {until.isoformat(timespec='minutes')}.")

    def _revoke(self, source: EventSource) -> None:
        if event_sources.event_source_revoke(source):
            self.stdout.write(f"Revoked {source.name!r}: its events now get 401.")
        else:
            self.stdout.write(f"{source.name!r} was revoked already.")
