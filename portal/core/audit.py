"""The audit log: every admin action, booking change and sign-in leaves a row."""

from flask import has_request_context, request

from portal.core.models import AuditEntry
from portal.extensions import db


def record(action, *, actor=None, clinic_id=None, obj=None, details=None):
    """Add an audit row to the current transaction (it commits or rolls back with the change)."""
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        clinic_id=clinic_id if clinic_id is not None else getattr(actor, "clinic_id", None),
        object_type=getattr(obj, "__tablename__", None),
        object_id=getattr(obj, "id", None),
        details=details or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
