"""The periodic booking jobs: releasing no-shows (rule 7) and reminders, safe on several machines at once."""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal.booking import cache, notices
from portal.booking.models import Booking
from portal.clinics.models import Room
from portal.core import audit
from portal.extensions import db


def release_no_shows(*, now: datetime) -> list[Booking]:
    """Rule 7's second half: bookings not checked in by the end of the grace become `no_show`.

    One guarded UPDATE per grace length claims the rows (`status = 'booked'`
    is re-checked under the row lock), so two machines running the job at
    once release each booking exactly once and notify once. Checked-in
    bookings that have ended become `completed`. Returns the released bookings.
    """
    released_ids = []
    graces = db.session.scalars(select(Room.checkin_grace_minutes).distinct()).all()
    for grace in graces:
        rooms_with_grace = select(Room.id).where(Room.checkin_grace_minutes == grace)
        rows = db.session.execute(
            update(Booking)
            .where(
                Booking.status == "booked",
                Booking.start_at <= now - timedelta(minutes=grace),
                Booking.room_id.in_(rooms_with_grace),
            )
            .values(status="no_show")
            .returning(Booking.id, Booking.room_id)
            .execution_options(synchronize_session=False, **cache.rooms_option(()))
        ).all()
        released_ids += [row.id for row in rows]
        cache.mark_rooms_changed(db.session, {row.room_id for row in rows})
    db.session.execute(
        update(Booking)
        .where(Booking.status == "checked_in", Booking.end_at <= now)
        .values(status="completed")
        .execution_options(synchronize_session=False, **cache.rooms_option(()))
    )
    released = (
        db.session.scalars(select(Booking).where(Booking.id.in_(released_ids)).order_by(Booking.start_at)).all()
        if released_ids
        else []
    )
    for booking in released:
        audit.record(
            "booking_no_show", clinic_id=booking.room.clinic_id, obj=booking, details={"user_id": booking.user_id}
        )
        notices.no_show_released(booking)
    return released


def send_reminders(*, now: datetime, lead_minutes: int = 60) -> list[Booking]:
    """Remind doctors of bookings starting within `lead_minutes`, each booking once (guarded UPDATE)."""
    rows = db.session.execute(
        update(Booking)
        .where(
            Booking.status == "booked",
            Booking.reminder_sent_at.is_(None),
            Booking.start_at > now,
            Booking.start_at <= now + timedelta(minutes=lead_minutes),
        )
        .values(reminder_sent_at=now)
        .returning(Booking.id)
        .execution_options(synchronize_session=False, **cache.rooms_option(()))
    ).all()
    reminded = (
        db.session.scalars(
            select(Booking).where(Booking.id.in_([row.id for row in rows])).order_by(Booking.start_at)
        ).all()
        if rows
        else []
    )
    for booking in reminded:
        notices.reminder(booking)
    return reminded
