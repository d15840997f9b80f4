"""The audit log: every governed action writes one AuditEvent in the caller's transaction.

Details must never hold PII values or secrets: name the object, the action and the parameters that
matter (a hold's matter, an export's record count and manifest hash), never the content.
"""

from django.db import models

from governance.models import AuditEvent


def audit_record(
    *, action: str, actor=None, tenant=None, obj: models.Model | None = None, detail: dict | None = None
) -> AuditEvent:
    """Append one audit event (`action` like "legal_hold.place", "record.view", "records.export")."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        tenant=tenant,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
    )
