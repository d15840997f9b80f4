"""`manage.py seed_demo`: load the demo tenants, catalog, policies, documents and reviews (once)."""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from demo.seed import ADMIN_PASSWORD, ADMIN_USERNAME, demo_seed


class _ProgressStream:
    """Let tqdm redraw its bar on the command's stderr (OutputWrapper adds a newline to every write)."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: two tenants (Acme Home & Electronics, Boltwerk Industrial Supply) with "
        "English and German texts, over 2,000 SKUs, price lists, stock, policies, manuals (one PDF) and reviews; "
        "a staff superuser admin/admin (unless a user named admin exists) and per-tenant API keys. The API keys "
        "are fixed and public (ck_demo0001_acme-retail-demo-key, ...): they are for the demo only, never for a "
        "deployment. Does nothing when the demo tenants exist already."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiply the number of products (default 1.0: >= 2,000 SKUs)."
        )

    def handle(self, *args, scale: float, **options):
        if scale <= 0:
            raise CommandError("--scale must be greater than 0.")
        stream = _ProgressStream(self.stderr)
        started = time.monotonic()
        result = demo_seed(scale=scale, progress=lambda iterable, **kw: tqdm(iterable, file=stream, leave=False, **kw))
        if not result.created:
            self.stdout.write("The demo tenants exist already; nothing was changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f} s:"))
        width = max(len(name) for name in result.counts)
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<{width}}  {count:>6,}")
        if result.admin_created:
            self.stdout.write(f"\nAdmin login: {ADMIN_USERNAME} / {ADMIN_PASSWORD} (demo only; change it).")
        self.stdout.write("\nDemo API keys (public, demo only): send 'Authorization: Api-Key <key>'")
        for tenant, name, raw in result.api_keys:
            self.stdout.write(f"  {tenant:<20} {name:<30} {raw}")
