from datetime import timedelta

from sqlalchemy import select

from portal.booking.models import Booking
from portal.core.db import utcnow
from portal.core.models import AuditEntry
from portal.extensions import db


def make_booking(user, workstation, start, status):
    booking = Booking(
        user_id=user.id,
        workstation_id=workstation.id,
        room_id=workstation.room_id,
        start_at=start,
        end_at=start + timedelta(hours=1),
        status=status,
        created_by_id=user.id,
        cancel_reason="заболел" if status == "cancelled" else None,
    )
    db.session.add(booking)
    db.session.commit()
    return booking.id


def test_old_history_loses_the_person_but_keeps_the_statistics(app, make_user, make_workstation):
    workstation = make_workstation()
    doctor = make_user(clinic=workstation.room.clinic)
    now = utcnow().replace(microsecond=0)
    old_done = make_booking(doctor, workstation, now - timedelta(days=400), "completed")
    old_cancelled = make_booking(doctor, workstation, now - timedelta(days=399), "cancelled")
    recent = make_booking(doctor, workstation, now - timedelta(days=10), "completed")
    future = make_booking(doctor, workstation, now + timedelta(days=1), "booked")

    result = app.test_cli_runner().invoke(args=["portal", "anonymise-history", "--older-than-days", "365"])
    assert result.exit_code == 0, result.output
    assert "Anonymised 2 booking(s)" in result.output

    rows = {b.id: b for b in db.session.scalars(select(Booking))}
    assert rows[old_done].user_id is None and rows[old_done].status == "completed"
    assert rows[old_cancelled].user_id is None and rows[old_cancelled].cancel_reason is None
    assert rows[recent].user_id == doctor.id
    assert rows[future].user_id == doctor.id
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "history_anonymised"

    again = app.test_cli_runner().invoke(args=["portal", "anonymise-history", "--older-than-days", "365"])
    assert "Anonymised 0 booking(s)" in again.output


def test_zero_days_is_refused(app):
    result = app.test_cli_runner().invoke(args=["portal", "anonymise-history", "--older-than-days", "0"])
    assert result.exit_code != 0
