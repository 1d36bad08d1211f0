"""How bookings follow what the clinics and auth packages announce (see their signals modules)."""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.booking import changes, notices
from portal.booking.models import Booking
from portal.clinics.models import Room


def cancel_bookings_in_withdrawn_room(room, *, actor, now):
    changes.cancel_future_bookings(
        actor,
        Booking.room_id == room.id,
        now=now,
        reason=_("The room no longer takes bookings."),
        notice=notices.booking_cancelled_room_withdrawn,
    )


def cancel_bookings_in_former_clinic(user, *, previous_clinic_id, now):
    former_rooms = select(Room.id).where(Room.clinic_id == previous_clinic_id)
    changes.cancel_future_bookings(
        None,
        (Booking.user_id == user.id) & Booking.room_id.in_(former_rooms),
        now=now,
        reason=_("The doctor moved to another polyclinic."),
        notice=notices.booking_cancelled_moved_clinic,
    )


def connect():
    from portal.auth.signals import user_moved_clinic
    from portal.clinics.signals import room_withdrawn

    room_withdrawn.connect(cancel_bookings_in_withdrawn_room)
    user_moved_clinic.connect(cancel_bookings_in_former_clinic)
