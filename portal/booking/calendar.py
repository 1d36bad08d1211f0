"""iCalendar (RFC 5545) documents: one booking as an .ics file, and a user's private feed.

Text values are written on one line: calendar programs show a title or a place with a line
break in it as two, and the names come from what admins and trainers typed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from portal.booking.models import Booking
from portal.core.exports import one_line
from portal.core.urls import portal_url
from portal.extensions import db

PRODID = "-//Growth Room Portal//Bookings//RU"
CALENDAR_SOURCES = "portal_calendar_sources"
FEED_HISTORY = timedelta(days=90)
ICAL_STATUS = {
    "booked": "CONFIRMED",
    "checked_in": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CANCELLED",
}


def _calendar(name):
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", one_line(name))
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
    event.add(
        "summary",
        one_line(_("Workstation %(label)s — %(room)s", label=booking.workstation.label, room=booking.room.name)),
    )
    event.add(
        "location", one_line(", ".join(part for part in (booking.room.clinic.name, booking.room.location) if part))
    )
    event.add("status", ICAL_STATUS[booking.status])
    event.add("url", portal_url("booking.booking_detail", booking_id=booking.id, external=True))
    return event


@dataclass(frozen=True)
class CalendarItem:
    """Something else a doctor has in the room (a training), for their feed."""

    kind: str  # the UID's prefix: "training"
    id: int
    start: datetime
    end: datetime
    summary: str
    location: str
    cancelled: bool


def register_calendar_source(app, source):
    """Other features add their events to a doctor's feed: `source(user, since)` yields CalendarItems."""
    app.extensions.setdefault(CALENDAR_SOURCES, []).append(source)


def booking_ics(booking, now):
    calendar = _calendar(_("Growth Room bookings"))
    calendar.add_component(_booking_event(booking, now))
    return calendar.to_ical()


def feed_ics(user, now):
    """The user's bookings and trainings from 90 days back on (cancelled ones marked so, for syncing clients)."""
    calendar = _calendar(_("Growth Room: %(name)s", name=user.full_name))
    since = now - FEED_HISTORY
    bookings = db.session.scalars(
        select(Booking).where(Booking.user_id == user.id, Booking.start_at >= since).order_by(Booking.start_at)
    ).all()
    for booking in bookings:
        calendar.add_component(_booking_event(booking, now))
    for entry in current_app.extensions.get(CALENDAR_SOURCES, ()):
        for item in entry(user, since):
            event = Event()
            event.add("uid", _uid(item.kind, item.id))
            event.add("dtstamp", now)
            event.add("dtstart", item.start)
            event.add("dtend", item.end)
            event.add("summary", one_line(item.summary))
            event.add("location", one_line(item.location))
            event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
            calendar.add_component(event)
    return calendar.to_ical()


def calendar_response_headers(filename):
    return {
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
    }
