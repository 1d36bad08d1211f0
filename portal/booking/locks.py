"""Row locks that order concurrent booking work (PostgreSQL; SQLite admits one writer at a time).

A booking takes its room's lock shared, a new whole-room training exclusive,
so a booking and a training can never slip past each other; a doctor's own
booking attempts queue on their user row, so counting towards a quota and
inserting are atomic.
"""

from sqlalchemy import select

from portal.auth.models import User
from portal.clinics.models import Room
from portal.extensions import db


def _is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def lock_room(room_id, exclusive):
    """Lock a room's row until the transaction ends, to order bookings against whole-room trainings.

    A booking takes it shared (`exclusive=False`): bookings of one room still
    run side by side. Creating a whole-room training takes it exclusive: it
    waits for bookings in flight and they wait for it, so each sees the other
    when it checks for overlaps.
    """
    if _is_postgresql():
        db.session.execute(select(Room.id).where(Room.id == room_id).with_for_update(read=not exclusive))


def lock_user(user_id):
    """Serialise one doctor's booking attempts.

    FOR NO KEY UPDATE, not FOR UPDATE: rows that merely reference the user
    (a notification, an audit entry) written by other transactions must not wait.
    """
    if _is_postgresql():
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
