"""Relevance models: register a trained version, activate it, roll back to the one active before it."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from knowledge.models import RelevanceModel
from knowledge.relevance import scoring
from knowledge.relevance.files import META_FILE, REQUIRED_FILES, stored_path

META_FIELDS = ("name", "datasets", "split", "metrics", "threshold", "locales")


def relevance_model_next_version(name: str) -> int:
    return (RelevanceModel.objects.filter(name=name).aggregate(m=Max("version"))["m"] or 0) + 1


def relevance_model_read_meta(path: Path) -> dict:
    """The folder's meta.json, checked: every file a scorer needs and every field a row holds."""
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ValidationError(f"{path} is not a relevance model folder: missing {', '.join(missing)}")
    try:
        meta = json.loads((path / META_FILE).read_text())
    except (OSError, ValueError) as error:
        raise ValidationError(f"{path / META_FILE} is not readable JSON ({error})") from error
    absent = [field for field in META_FIELDS if field not in meta]
    if absent:
        raise ValidationError(f"{path / META_FILE} lacks {', '.join(absent)}")
    return meta


@transaction.atomic
def relevance_model_register(*, path: Path, activate: bool = False) -> RelevanceModel:
    """Add a registry row for a trained folder (its meta.json); the version is meta.json's when still free."""
    path = Path(path).resolve()
    meta = relevance_model_read_meta(path)
    version = meta.get("version")
    taken = RelevanceModel.objects.filter(name=meta["name"], version=version).exists()
    if not isinstance(version, int) or version < 1 or taken:
        version = relevance_model_next_version(meta["name"])
    model = RelevanceModel(
        name=meta["name"], version=version, path=stored_path(path), threshold=float(meta["threshold"]),
        **{field: meta[field] for field in ("datasets", "split", "metrics", "locales")},
    )  # fmt: skip
    model.full_clean()
    model.save()
    if activate:
        relevance_model_activate(model=model)
    return model


@transaction.atomic
def relevance_model_activate(*, model: RelevanceModel) -> RelevanceModel:
    """Make `model` the one active relevance model; the others are deactivated in the same transaction."""
    RelevanceModel.objects.select_for_update().filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
    model.is_active, model.activated_at = True, timezone.now()
    model.save(update_fields=["is_active", "activated_at"])
    _forget_active()
    return model


@transaction.atomic
def relevance_model_rollback() -> RelevanceModel | None:
    """Deactivate the active model and reactivate the one activated before it (None: no model is left active).

    The rolled-back model loses its activation time, so rolling back again walks further back in history.
    """
    current = RelevanceModel.objects.select_for_update().filter(is_active=True).first()
    if current is not None:
        current.is_active, current.activated_at = False, None
        current.save(update_fields=["is_active", "activated_at"])
    previous = (
        RelevanceModel.objects.select_for_update()
        .filter(activated_at__isnull=False, is_active=False)
        .order_by("-activated_at", "-pk")
        .first()
    )
    if previous is not None:
        previous.is_active = True  # keeps its activation time: the history stays in order
        previous.save(update_fields=["is_active"])
    _forget_active()
    return previous


def _forget_active() -> None:
    """Drop this process's cached active model now and again at commit (other processes: within the TTL)."""
    scoring.forget_active()
    transaction.on_commit(scoring.forget_active)
