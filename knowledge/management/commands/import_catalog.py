"""`manage.py import_catalog PATH --tenant SLUG [--dry-run] [--prune]`: load a feed (docs/feeds.md)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from catalog.models import Tenant
from knowledge.ingestion.apply import APPLY_BATCH, problem_lines
from knowledge.ingestion.progress import bar_on
from knowledge.ingestion.run import ImportBusy, ImportOptions, ImportResult, feed_import

FIRST_PROBLEMS = 10  # problems the error message lists; the report has them all
ACTIONS = ("new", "changed", "unchanged", "deleted", "rejected")


class Command(BaseCommand):
    help = (
        "Import a catalog feed (a JSON Lines or CSV file, or a folder of them) into a tenant: stage and validate "
        "every line, decide what changes against the live catalog, then apply in atomic batches. Re-running an "
        "interrupted import resumes it. A run that breaks the tenant's thresholds is held for review in the admin. "
        "Exits non-zero when lines were rejected (see the report) or the run is held."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A .jsonl or .csv file, or a folder of them.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--dry-run", action="store_true", help="Stage and decide, print the changes, apply none.")
        parser.add_argument("--prune", action="store_true", help="Delete live rows of the feed's types it omits.")
        parser.add_argument(
            "--max-reject-share", type=float, default=None,
            help="Hold the run for review when more than this share of lines is rejected (default: the tenant's "
            "ingestion settings, 0.10 unless changed in the admin).",
        )  # fmt: skip
        parser.add_argument("--report", help="Where to write the validation report (default: beside the feed).")
        parser.add_argument("--batch-size", type=int, default=APPLY_BATCH, help="Rows per atomic apply batch.")
        parser.add_argument("--batch-pause", type=float, default=0.0, help="Seconds to wait between apply batches.")

    def handle(self, *args, path, tenant, dry_run, prune, max_reject_share, report, batch_size, batch_pause, **opts):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"unknown tenant {tenant!r}")
        feed = Path(path).resolve()  # an editor may apply a held run later, from a worker in another folder
        if not feed.exists():
            raise CommandError(f"{path} does not exist")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if max_reject_share is not None and not 0 <= max_reject_share <= 1:
            raise CommandError("--max-reject-share must be between 0 and 1")
        options = ImportOptions(
            dry_run=dry_run, prune=prune, max_reject_share=max_reject_share,
            report_path=Path(report) if report else None, batch_size=batch_size, pause_s=batch_pause,
        )  # fmt: skip
        try:
            result = feed_import(tenant=found, path=feed, options=options, progress=bar_on(self.stderr))
        except ImportBusy as exc:
            raise CommandError(str(exc)) from exc
        self._summary(result)
        if dry_run:
            self._examples(result)
        self._verdict(result, dry_run)

    def _summary(self, result: ImportResult) -> None:
        run, decision = result.run, result.decision
        verb = "resumed" if result.resumed else "started"
        self.stdout.write(f"run {run.pk} ({verb}): {decision.lines:,} lines, {decision.rejected:,} rejected")
        self.stdout.write(f"  {'type':<16}" + "".join(f"{a:>11}" for a in ACTIONS))
        for record_type, counts in sorted(decision.counts.items()):
            self.stdout.write(f"  {record_type:<16}" + "".join(f"{counts.get(a, 0):>11,}" for a in ACTIONS))
        if result.applied is not None:
            self.stdout.write(f"applied {result.applied.applied:,} rows ({result.applied.failed:,} failed)")

    def _examples(self, result: ImportResult) -> None:
        if result.decision.examples:
            self.stdout.write("first changes:")
        for record in result.decision.examples:
            where = f"{record.source}:{record.line}" if record.line else "--prune"
            changes = f": {', '.join(record.changes)}" if record.changes else ""
            self.stdout.write(f"  {record.action:<8} {record.record_type:<15} {record.key}  ({where}){changes}")

    def _verdict(self, result: ImportResult, dry_run: bool) -> None:
        decision, report = result.decision, result.report_path
        first = "\n".join(f"  {line}" for line in problem_lines(result.run, FIRST_PROBLEMS))
        reasons = "\n".join(f"  - {reason['detail']}" for reason in result.held)
        if result.held and dry_run:
            self.stdout.write(f"the run would be held for review:\n{reasons}")
        elif result.held:
            url = settings.SITE_URL + reverse("admin:knowledge_ingestionrun_change", args=[result.run.pk])
            raise CommandError(
                f"run {result.run.pk} is held for review: nothing was applied.\n{reasons}\n"
                f"Review it, then apply or discard it, in the admin: {url}\nReport: {report}\n{first}"
            )
        if decision.rejected or result.failures:
            applied = "nothing was applied (dry run)" if dry_run else "the valid lines were applied"
            raise CommandError(
                f"{decision.rejected:,} lines rejected and {len(result.failures):,} rows not applied; {applied}. "
                f"Report: {report}\n{first}"
            )
        self.stdout.write(self.style.SUCCESS("dry run: nothing was applied" if dry_run else "done"))
