"""iCalendar (RFC 5545) documents: one booking as an .ics file, and a user's private feed."""
from datetime import timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from portal.booking.models import Booking
from portal.core.urls import portal_url
from portal.extensions import db
from portal.training.models import Course, Enrolment, TrainingSession

PRODID = "-//Growth Room Portal//Bookings//RU"
FEED_HISTORY = timedelta(days=90)
ICAL_STATUS = {"booked": "CONFIRMED", "checked_in": "CONFIRMED", "completed": "CONFIRMED",
               "cancelled": "CANCELLED", "no_show": "CANCELLED"}


def _calendar(name):
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _uid(kind, object_id):
    host = portal_url("core.index", external=True).split("//", 1)[-1].strip("/") or "portal"
    return f"{kind}-{object_id}@{host}"


def _booking_event(booking, now):
    event = Event()
    event.add("uid", _uid("booking", booking.id))
    event.add("dtstamp", now)
    event.add("dtstart", booking.start_at)
    event.add("dtend", booking.end_at)
    event.add("summary", _("Workstation %(label)s — %(room)s", label=booking.workstation.label,
                           room=booking.room.name))
    event.add("location", ", ".join(part for part in (booking.room.clinic.name, booking.room.location) if part))
    event.add("status", ICAL_STATUS[booking.status])
    event.add("url", portal_url("booking.booking_detail", booking_id=booking.id, external=True))
    return event


def booking_ics(booking, now):
    calendar = _calendar(_("Growth Room bookings"))
    calendar.add_component(_booking_event(booking, now))
    return calendar.to_ical()


def feed_ics(user, now):
    """The user's bookings and trainings from 90 days back on (cancelled ones marked so, for syncing clients)."""
    calendar = _calendar(_("Growth Room: %(name)s", name=user.full_name))
    since = now - FEED_HISTORY
    bookings = db.session.scalars(select(Booking).where(Booking.user_id == user.id, Booking.start_at >= since)
                                  .order_by(Booking.start_at)).all()
    for booking in bookings:
        calendar.add_component(_booking_event(booking, now))
    sessions = db.session.execute(
        select(TrainingSession, Course.title, Enrolment.status)
        .join(Enrolment, Enrolment.session_id == TrainingSession.id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(Enrolment.user_id == user.id, Enrolment.status.in_(("enrolled", "attended")),
               TrainingSession.start_at >= since)
        .order_by(TrainingSession.start_at)).all()
    for session, title, _status in sessions:
        event = Event()
        event.add("uid", _uid("training", session.id))
        event.add("dtstamp", now)
        event.add("dtstart", session.start_at)
        event.add("dtend", session.end_at)
        event.add("summary", _("Training: %(title)s", title=title))
        event.add("location", session.room.name)
        event.add("status", "CANCELLED" if session.status == "cancelled" else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()


def calendar_response_headers(filename):
    return {"Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store"}
