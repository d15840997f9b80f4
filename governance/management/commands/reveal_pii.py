"""`manage.py reveal_pii <record> --user <username>`: an answer record's question and answer, PII revealed.

The door to the vault for compliance staff: the user must hold `governance.detokenize_piitoken`, and every
use (and every refusal) is an audit event naming that user. Tokens of another tenant stay tokens.
"""

import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from governance.models import AnswerRecord
from governance.vault import pii_detokenize

SEPARATOR = "\x1e"  # between question and answer while they are revealed together: one audit event


class Command(BaseCommand):
    help = "Print an answer record's question and answer with PII tokens replaced by their values (audited)."

    def add_arguments(self, parser):
        parser.add_argument("record", help="The answer record's id.")
        parser.add_argument("--user", required=True, help="Who reveals: needs the detokenize permission.")

    def handle(self, *args, record: str, user: str, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user {user!r}.")
        try:
            row = AnswerRecord.objects.filter(pk=uuid.UUID(record)).first()
        except ValueError:
            row = None
        if row is None:
            raise CommandError(f"No answer record {record!r}.")
        try:
            text = pii_detokenize(user=account, tenant=row.tenant, text=f"{row.question}{SEPARATOR}{row.answer}")
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        question, _, answer = text.partition(SEPARATOR)
        self.stdout.write(f"Question: {question}\nAnswer: {answer}")
