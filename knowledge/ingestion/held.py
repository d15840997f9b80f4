"""Held runs: a run that breaks its contract at run level stops after decide and waits for an editor.

Triggers, with thresholds per tenant (`IngestionSettings`; a tenant without a row has the defaults):

- rejected: more than `max_reject_share` of the lines are rejected;
- missing: a contract's required attribute is missing on more than `max_missing_share` of the run's products
  under that contract;
- type: a field's type differs from the previous applied run of the same tenant and origin
  (`hold_on_type_change`; see knowledge.ingestion.profile).

In the admin an editor applies a held run (`held_run_approve`: a worker runs the apply phase on the decision
as reviewed) or discards it (`held_run_discard`). Running the same feed again decides a held run afresh, so
after a contract fix or a changed threshold it may apply.
"""

import logging

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from knowledge.models import IngestionRun, IngestionSettings

logger = logging.getLogger(__name__)

APPLY_TASK = "knowledge.tasks.ingestion_run_apply"  # sent by name: the tasks module imports this one


def ingestion_settings_for(tenant_id: int) -> IngestionSettings:
    """The tenant's settings, or an unsaved row holding the defaults."""
    return IngestionSettings.objects.filter(tenant_id=tenant_id).first() or IngestionSettings(tenant_id=tenant_id)


def hold_reasons(run: IngestionRun, decision, settings: IngestionSettings, max_reject_share=None) -> list[dict]:
    """Why a decided run must wait for review ([{trigger, detail}]; empty: it may apply)."""
    reasons = []
    limit = settings.max_reject_share if max_reject_share is None else max_reject_share
    if decision.reject_share > limit:
        detail = (f"{decision.rejected:,} of {decision.lines:,} lines rejected ({decision.reject_share:.0%}, "
                  f"over {limit:.0%})")  # fmt: skip
        reasons.append({"trigger": "rejected", "detail": detail})
    for missing in run.profile.get("contracts", {}).get("missing", []):
        if missing["share"] > settings.max_missing_share:
            detail = (
                f"required {missing['field']} missing on {missing['missing']:,} of {missing['rows']:,} products "
                f"under the contract of “{missing['category']}” ({missing['share']:.0%}, over "
                f"{settings.max_missing_share:.0%})"
            )
            reasons.append({"trigger": "missing", "detail": detail})
    drift = run.profile.get("drift", {})
    if settings.hold_on_type_change:
        for change in drift.get("type_changes", []):
            detail = f"{change['field']} was {change['from']} in run {drift['previous_run']}, now {change['to']}"
            reasons.append({"trigger": "type", "detail": detail})
    return reasons


def run_hold(run: IngestionRun, reasons: list[dict]) -> None:
    run.state, run.held_reasons = IngestionRun.State.HELD, reasons
    run.save(update_fields=["state", "held_reasons"])


def _locked_held(run_id: int) -> IngestionRun:
    run = IngestionRun.objects.select_for_update().get(pk=run_id)
    if run.state != IngestionRun.State.HELD:
        raise ValidationError(f"Run {run.pk} is not held for review (it is {run.get_state_display().lower()}).")
    return run


def held_run_approve(*, run_id: int, user) -> IngestionRun:
    """Approve a held run: mark it applying and have a worker apply it once this commits.

    When the task cannot be sent (the broker is down) the run goes back to held, so the editor can apply it again
    later, and a ValidationError says so (inside a caller's transaction the send waits for its commit, and only
    the return to held happens then).
    """
    sent = []
    with transaction.atomic():
        run = _locked_held(run_id)
        run.state, run.reviewed_by, run.reviewed_at = IngestionRun.State.APPLYING, user, timezone.now()
        run.save(update_fields=["state", "reviewed_by", "reviewed_at"])
        transaction.on_commit(lambda: sent.append(_send_apply(run.pk)))
    if sent == [False]:
        raise ValidationError(
            f"Run {run.pk} could not be queued for a worker (the task queue is unavailable); it is still held: "
            "apply it again once the queue is back."
        )
    return run


def _send_apply(run_id: int) -> bool:
    """Queue the apply; on a broker failure put the run back on hold (unless a worker took it already)."""
    try:
        current_app.send_task(APPLY_TASK, args=(run_id,), retry=False)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure
        logger.warning("broker unavailable (%s); run %d is held again", type(exc).__name__, run_id)
        IngestionRun.objects.filter(pk=run_id, state=IngestionRun.State.APPLYING).update(
            state=IngestionRun.State.HELD, reviewed_by=None, reviewed_at=None
        )
        return False


@transaction.atomic
def held_run_discard(*, run_id: int, user) -> IngestionRun:
    """Discard a held run: nothing of it applies; its records and report stay for the record."""
    run = _locked_held(run_id)
    now = timezone.now()
    run.state, run.reviewed_by, run.reviewed_at, run.finished_at = IngestionRun.State.DISCARDED, user, now, now
    run.save(update_fields=["state", "reviewed_by", "reviewed_at", "finished_at"])
    return run


def held_runs():
    return IngestionRun.objects.filter(state=IngestionRun.State.HELD)
