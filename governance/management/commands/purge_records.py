"""python manage.py purge_records: run the retention purge now (what the beat task does) and print its report."""

from django.core.management.base import BaseCommand

from governance.retention import purge_report, records_purge


class Command(BaseCommand):
    help = "Purge expired answer records, conversations and audit events not under a legal hold, now."

    def handle(self, *args, **options):
        report = purge_report(records_purge())
        for run in report:
            self.stdout.write(
                f"{run['tenant']:<30} {run['record_class']:<14} purged {run['purged']:>6}  "
                f"kept under hold {run['skipped_held']:>6}  (cutoff {run['cutoff']}, run {run['run_id']})"
            )
        if not report:
            self.stdout.write("No retention policies: nothing to purge.")
