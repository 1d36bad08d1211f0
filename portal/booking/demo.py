"""Demo bookings: a few upcoming bookings for the demo doctors (skipped when they already have some)."""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from portal.booking import creating
from portal.booking.models import ACTIVE_STATUSES, Booking
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.core.time import local_to_utc, to_local
from portal.extensions import db

# (doctor's e-mail, workstation index in the room, local start, local end)
DEMO_BOOKINGS = [
    ("doctor@dgp94.demo.portal", 0, time(10, 0), time(11, 30)),
    ("doctor@dgp94.demo.portal", 1, time(15, 0), time(16, 0)),
    ("doctor2@dgp94.demo.portal", 1, time(10, 0), time(11, 0)),
    ("trainer@dgp94.demo.portal", 2, time(12, 0), time(13, 0)),
    ("doctor@dgp133.demo.portal", 0, time(9, 0), time(10, 0)),
]


def _next_weekday(room, now):
    day = to_local(now, room.timezone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def seed_demo(context):
    now = utcnow()
    users = context["users"]
    already_booked = {
        email
        for email in {entry[0] for entry in DEMO_BOOKINGS}
        if db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.user_id == users[email].id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now)
        )
    }
    for email, index, opens, closes in DEMO_BOOKINGS:
        user = users[email]
        room = next(room for room in context["rooms"] if room.clinic_id == user.clinic_id)
        if email in already_booked or index >= len(room.workstations):
            continue
        day = _next_weekday(room, now)
        try:
            with db.session.begin_nested():
                creating.create_booking(
                    user,
                    workstation=room.workstations[index],
                    now=now,
                    start=local_to_utc(datetime.combine(day, opens), room.timezone),
                    end=local_to_utc(datetime.combine(day, closes), room.timezone),
                )
        except DomainError:
            continue  # demo data must never stop the seeding; the rules decide
