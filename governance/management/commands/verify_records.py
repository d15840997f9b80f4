"""python manage.py verify_records [--tenant SLUG]: walk each tenant's answer chain and name what was tampered with.

Exit status 1 when any record was altered or removed (a chain_seq missing that no purge run lists).
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.models import Tenant
from governance.chain import ChainReport, chain_verify
from governance.models import AnswerRecord

KINDS = ("altered", "relinked", "broken-link", "removed", "head", "unchained")


def _cell(value, width: int, column: int) -> str:
    return str(value).rjust(width) if column else str(value).ljust(width)


class Command(BaseCommand):
    help = "Verify the answer records' hash chains; name every altered or removed record. Non-zero exit if any."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant (slug).")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant {tenant!r}.")
        total = AnswerRecord.objects.filter(tenant__in=tenants, chain_seq__isnull=False).count()
        reports = []
        with tqdm(total=total, unit="record", desc="verifying", disable=None) as bar:
            for row in tenants:
                reports.append(chain_verify(row, progress=bar))
        for report in reports:
            for p in report.problems:
                where = f"#{p.chain_seq}" if p.chain_seq is not None else "-"
                self.stdout.write(f"{report.tenant} {where} {p.kind}: {p.record_id or '(no row)'} {p.detail}")
        self.stdout.write(self._table(reports))
        problems = sum(len(r.problems) for r in reports)
        if problems:
            raise CommandError(f"{problems} problem{'s' if problems != 1 else ''} found in the answer chains.")
        self.stdout.write(self.style.SUCCESS(f"All chains verify ({sum(r.records for r in reports)} records)."))

    @staticmethod
    def _table(reports: list[ChainReport]) -> str:
        header = ("tenant", "records", "purged", "head", *KINDS)
        rows = [header] + [(r.tenant, r.records, r.purged, r.head, *(r.count(kind) for kind in KINDS)) for r in reports]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
        lines = ["  ".join(_cell(v, w, i) for i, (v, w) in enumerate(zip(row, widths, strict=True))) for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
