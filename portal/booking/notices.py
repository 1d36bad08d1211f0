"""What doctors are told about their bookings, in their own language, in the portal and by e-mail.

The kinds are the ones a user can switch off for e-mail on the preferences page.
"""

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from portal.core.notifications import in_language_of, notify
from portal.core.time import format_local, to_local
from portal.core.urls import portal_url

KINDS = {
    "booking_confirmed": _l("A booking is confirmed"),
    "booking_cancelled": _l("An administrator cancelled my booking"),
    "booking_moved": _l("My booking moved to another workstation"),
    "booking_reminder": _l("Reminder before a booking starts"),
    "no_show_released": _l("A booking was released because I did not check in"),
}


def describe(booking):
    tz = booking.room.timezone
    return _(
        "%(workstation)s, %(room)s, %(start)s–%(end)s",
        workstation=booking.workstation.label,
        room=booking.room.name,
        start=format_local(booking.start_at, tz),
        end=format_local(booking.end_at, tz, "time"),
    )


def room_closed_message(room, opens_at, now):
    """That the room is closed and when it opens again: today, tomorrow or on a date, in the room's time."""
    if opens_at is None:
        return _("The room is closed for now.")
    tz = room.timezone
    days_ahead = (to_local(opens_at, tz).date() - to_local(now, tz).date()).days
    time = format_local(opens_at, tz, "time")
    if days_ahead == 0:
        return _("The room is closed. It opens today at %(time)s.", time=time)
    if days_ahead == 1:
        return _("The room is closed. It opens tomorrow at %(time)s.", time=time)
    return _(
        "The room is closed. It opens on %(day)s at %(time)s.",
        day=format_local(opens_at, tz, "day_month_name"),
        time=time,
    )


def _send(booking, kind, subject, text, link=None):
    link = link or portal_url("booking.booking_detail", booking_id=booking.id)
    absolute = (
        portal_url("booking.booking_detail", booking_id=booking.id, external=True) if link.startswith("/") else link
    )
    notify(booking.user, kind, subject, f"{text}\n\n{absolute}", link=link)


def booking_confirmed(booking):
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_confirmed",
            _("Booking confirmed: %(what)s", what=describe(booking)),
            _(
                "Please check in at the workstation from 10 minutes before the start; "
                "a booking without check-in is released when the grace period ends."
            ),
        )


def booking_cancelled(booking, reason):
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_cancelled",
            _("An administrator cancelled your booking: %(what)s", what=describe(booking)),
            _("Reason: %(reason)s", reason=reason) if reason else _("No reason was given."),
        )


def booking_cancelled_out_of_service(booking, workstation):
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_cancelled",
            _("Your booking was cancelled: %(what)s", what=describe(booking)),
            _(
                "%(workstation)s was taken out of service and no other workstation of the room is free "
                "at this time. Please choose another time.",
                workstation=workstation.label,
            ),
        )


def booking_cancelled_room_withdrawn(booking):
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_cancelled",
            _("Your booking was cancelled: %(what)s", what=describe(booking)),
            _("The room no longer takes bookings. Please book in another room of your polyclinic."),
        )


def booking_cancelled_moved_clinic(booking):
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_cancelled",
            _("Your booking was cancelled: %(what)s", what=describe(booking)),
            _(
                "Your account now belongs to another polyclinic, so this booking in your former one was "
                "cancelled. Please book in the rooms of your new polyclinic."
            ),
        )


def booking_moved(booking, old_workstation):
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_moved",
            _("Your booking moved to %(workstation)s", workstation=booking.workstation.label),
            _(
                "%(old)s was taken out of service. Your booking keeps its time: %(what)s.",
                old=old_workstation.label,
                what=describe(booking),
            ),
        )


def reminder(booking):
    cancel_link = portal_url("booking.cancel_by_link", token=cancel_token(booking), external=True)
    with in_language_of(booking.user):
        _send(
            booking,
            "booking_reminder",
            _("Reminder: %(what)s", what=describe(booking)),
            _("Cannot come? Free the workstation for a colleague with one click: %(link)s", link=cancel_link),
        )


def no_show_released(booking):
    with in_language_of(booking.user):
        _send(
            booking,
            "no_show_released",
            _("Booking released: %(what)s", what=describe(booking)),
            _(
                "You did not check in before the grace period ended, so the workstation was freed "
                "for others. The booking counts as a no-show."
            ),
        )


# --- the one-click cancel link in reminders -------------------------------------------------


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="booking-cancel")


def cancel_token(booking):
    """A signed link that cancels one booking of one doctor, with no sign-in (it is only good until the start)."""
    return _serializer().dumps({"b": booking.id, "u": booking.user_id})


def booking_id_from_cancel_token(token):
    """(booking id, user id) from a valid token, else None."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("b"), int):
        return None
    return data["b"], data.get("u")
