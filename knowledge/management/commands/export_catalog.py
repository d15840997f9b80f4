"""`manage.py export_catalog --tenant SLUG PATH`: write a tenant's catalog as a feed (docs/feeds.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Tenant
from knowledge.ingestion.export import catalog_export
from knowledge.ingestion.progress import bar_on


class Command(BaseCommand):
    help = (
        "Write a tenant's categories, products, SKUs, prices, stock, policies, documents, reviews and Q&A as "
        "JSON Lines."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The .jsonl file to write (PDF documents go to files/ beside it).")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")

    def handle(self, *args, path, tenant, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"unknown tenant {tenant!r}")
        counts = catalog_export(found, Path(path), bar_on(self.stderr))
        self.stdout.write(f"wrote {path}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items() if n))
