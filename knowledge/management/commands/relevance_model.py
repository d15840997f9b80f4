"""Manage the relevance model registry: list, register a trained folder, activate a version, roll back."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from knowledge.models import RelevanceModel
from knowledge.services.relevance import relevance_model_activate, relevance_model_register, relevance_model_rollback

KEY_METRICS = ("report.first_relevant", "report.bm25.first_relevant")


def find_model(spec: str) -> RelevanceModel:
    """`NAME` (its newest version) or `NAME@vN` / `NAME@N`, else a CommandError naming what exists."""
    name, _, version = spec.partition("@")
    rows = RelevanceModel.objects.filter(name=name)
    if version:
        digits = version.removeprefix("v")
        if not digits.isdigit():
            raise CommandError(f"{spec!r}: write NAME or NAME@vN, e.g. pqa@v2")
        rows = rows.filter(version=int(digits))
    model = rows.order_by("-version").first()
    if model is None:
        known = ", ".join(m.label for m in RelevanceModel.objects.all()) or "none registered"
        raise CommandError(f"no relevance model {spec!r} (known: {known})")
    return model


class Command(BaseCommand):
    help = "List, register, activate or roll back trained relevance models."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every registered version, the active one marked.")
        register = sub.add_parser("register", help="Register a folder trained elsewhere (reads its meta.json).")
        register.add_argument("path")
        register.add_argument("--activate", action="store_true")
        activate = sub.add_parser("activate", help="Activate NAME (its newest version) or NAME@vN.")
        activate.add_argument("spec")
        sub.add_parser("rollback", help="Reactivate the model that was active before the current one.")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _list(self, **options):
        rows = list(RelevanceModel.objects.order_by("name", "version"))
        if not rows:
            self.stdout.write("no relevance models registered (train one with train_reranker)")
        for m in rows:
            sets = ",".join(d.get("name", "?") for d in m.datasets)
            figures = " ".join(
                f"{k}={v:.3f}" for k, v in sorted(m.metrics.items()) if k.endswith(KEY_METRICS) and v is not None
            )
            mark = "*" if m.is_active else " "
            self.stdout.write(f"{mark} {m.label:<14} threshold={m.threshold:.3f} [{sets}] {figures} {m.path}")

    def _register(self, *, path, activate, **options):
        folder = Path(path)
        if not folder.is_dir():
            raise CommandError(f"{path} is not a folder")
        try:
            model = relevance_model_register(path=folder, activate=activate)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        state = "active" if model.is_active else "not active"
        self.stdout.write(self.style.SUCCESS(f"registered {model.label} ({state}) from {model.path}"))

    def _activate(self, *, spec, **options):
        model = relevance_model_activate(model=find_model(spec))
        self.stdout.write(self.style.SUCCESS(f"{model.label} is active (threshold {model.threshold:.3f})"))

    def _rollback(self, **options):
        active = RelevanceModel.objects.filter(is_active=True).first()
        if active is None:
            raise CommandError("no relevance model is active: nothing to roll back")
        model = relevance_model_rollback()
        if model is None:
            self.stdout.write(self.style.WARNING(f"{active.label} deactivated; no earlier model: none is active"))
        else:
            self.stdout.write(self.style.SUCCESS(f"rolled back from {active.label} to {model.label}"))
