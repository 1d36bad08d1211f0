"""Who may do what with bookings (used by services, views, the API and templates)."""

from portal.core.permissions import can_administer_clinic, can_see_clinic, can_train_in_clinic


def can_book_in_room(user, room):
    """Rule 1: doctors of the room's clinic book there (admins of the clinic may book for them)."""
    return (
        user.is_authenticated
        and room.is_active
        and (
            (user.clinic_id == room.clinic_id and user.has_role("doctor", "trainer"))
            or can_administer_clinic(user, room.clinic_id)
        )
    )


def can_book_for(actor, owner, room):
    """Booking for oneself needs only rule 1; booking for someone else needs the clinic's admin."""
    return actor.id == owner.id or can_administer_clinic(actor, room.clinic_id)


def can_view_room_schedule(user, room):
    return can_see_clinic(user, room.clinic_id)


def can_manage_booking(user, booking):
    """Cancel or check in: the booking's owner, or an administrator of its clinic."""
    return user.is_authenticated and (booking.user_id == user.id or can_administer_clinic(user, booking.room.clinic_id))


def can_see_who_booked(user, room):
    """Visibility rule 1: doctors see others' bookings only as busy; admins and trainers see who."""
    return can_train_in_clinic(user, room.clinic_id)


def can_administer_room(user, room):
    return can_administer_clinic(user, room.clinic_id)


def can_cancel(user, booking, now):
    """The owner until the booking starts; an administrator of its clinic, for someone else, until it ends."""
    if not booking.is_active or booking.end_at <= now:
        return False
    if booking.user_id == user.id:
        return booking.start_at > now
    return can_administer_clinic(user, booking.room.clinic_id)


def can_see_booking(user, booking):
    """The owner, and the clinic's admins and trainers (visibility rule 1)."""
    return booking.user_id == user.id or can_see_who_booked(user, booking.room)
