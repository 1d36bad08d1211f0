"""The request boundary of a booking attempt, shared by the web views and the API.

Services never commit; this is where a booking attempt is committed, or
rolled back with its refusal kept: the usage report counts refused bookings,
so their audit row is written in a transaction of its own after the rollback.
"""
from portal.booking import services
from portal.clinics.models import Room
from portal.core.errors import Conflict, NotAllowed
from portal.extensions import db


def book(actor, *, workstation, start, end, now, user=None):
    """Create and commit a booking, or roll back, commit the audited refusal and re-raise."""
    room_id, workstation_id = workstation.room_id, workstation.id
    try:
        booking = services.create_booking(actor, workstation=workstation, start=start, end=end, now=now, user=user)
    except (NotAllowed, Conflict) as error:
        db.session.rollback()
        services.record_refusal(actor, error, room=db.session.get(Room, room_id), workstation_id=workstation_id,
                                start=start, end=end)
        db.session.commit()
        raise
    db.session.commit()
    return booking
