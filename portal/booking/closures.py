"""What a room's closure does to its bookings (connected to portal.clinics.signals.closure_planned)."""

from flask_babel import gettext as _

from portal.booking.changes import cancel_for_room
from portal.booking.locks import lock_room
from portal.booking.queries import active_bookings_overlapping, describe_booking


def bookings_under_closure(room, *, start, end, reason, actor, now, cancel):
    """The room's active bookings that a closure [start, end) covers and that have not ended.

    The room's lock is taken exclusive first: bookings take it shared, so none can be made between this
    look and the closure's insert (nor between the list an administrator saw and their confirmation:
    that request looks again). With `cancel` the bookings are cancelled and each doctor is told why.
    """
    lock_room(room.id, exclusive=True)
    if end <= now:
        return []
    bookings = active_bookings_overlapping(room.id, max(start, now), end)
    if cancel:
        cancel_for_room(actor, bookings, now=now, reason=lambda: _("The room is closed: %(reason)s", reason=reason))
    return [describe_booking(booking) for booking in bookings]
