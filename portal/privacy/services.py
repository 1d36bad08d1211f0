"""The privacy job: old booking history and personal traces are anonymised or removed."""

from datetime import datetime, timedelta

from sqlalchemy import delete, update

from portal.booking.models import Booking
from portal.core import audit
from portal.core.models import AuditEntry, Notification
from portal.extensions import db

FINISHED_STATUSES = ("completed", "cancelled", "no_show")


def anonymise_history(*, older_than_days: int, now: datetime) -> int:
    """Detach people from booking history that ended more than `older_than_days` ago.

    Bookings keep their times, workstation and status (the room's statistics stay
    true) but lose who booked, who cancelled and why. Read notifications of the
    same age are deleted, and old audit rows lose the e-mail addresses and network
    addresses they carried. Active and future bookings are never touched. Safe to
    run on several machines at once: every step is a single idempotent statement.
    Returns the number of bookings anonymised.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = now - timedelta(days=older_than_days)
    result = db.session.execute(
        update(Booking)
        .where(
            Booking.end_at < cutoff,
            Booking.status.in_(FINISHED_STATUSES),
            (Booking.user_id.is_not(None))
            | (Booking.created_by_id.is_not(None))
            | (Booking.cancelled_by_id.is_not(None))
            | (Booking.cancel_reason.is_not(None)),
        )
        .values(user_id=None, created_by_id=None, cancelled_by_id=None, cancel_reason=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(Notification).where(Notification.created_at < cutoff, Notification.read_at.is_not(None)))
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.at < cutoff, AuditEntry.ip.is_not(None))
        .values(ip=None, details={})
        .execution_options(synchronize_session=False)
    )
    audit.record("history_anonymised", details={"older_than_days": older_than_days, "bookings": result.rowcount})
    return result.rowcount
