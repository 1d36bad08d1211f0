"""What the booking pages and the API read: one loader per object with its permission check, and lists."""

import functools
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from portal.auth.models import User
from portal.auth.services import ReadAlong
from portal.booking.changes import CHECKIN_OPENS_BEFORE
from portal.booking.models import ACTIVE_STATUSES, BOOKING_STATUSES, Booking
from portal.booking.permissions import can_see_booking, can_view_room_schedule
from portal.clinics.models import Clinic, Room, RoomVersion, Workstation
from portal.core.errors import Invalid, NotFound
from portal.core.notifications import unread_count_of
from portal.core.permissions import in_id_range
from portal.core.time import iso
from portal.extensions import db


def visible_booking(viewer: User, booking_id: int) -> Booking:
    """A booking the viewer may see (its owner, the clinic's admins and trainers), else NotFound."""
    booking = db.session.get(Booking, booking_id) if in_id_range(booking_id) else None
    if booking is None or not can_see_booking(viewer, booking):
        raise NotFound(_("Booking not found"))
    return booking


def visible_room(viewer: User, room_id: int) -> Room:
    """A room whose schedule the viewer may see (their clinic, or any for a superadmin), else NotFound."""
    room = db.session.get(Room, room_id) if in_id_range(room_id) else None
    if room is None or not can_view_room_schedule(viewer, room):
        raise NotFound(_("Room not found"))
    return room


@dataclass(frozen=True)
class RoomAtVersion:
    """What the schedule and availability decide on before drawing anything: who may see and book the
    room, its day, its version (portal.booking.cache), and for a page the viewer's unread notifications
    (the layout shows them; 0 where not read)."""

    id: int
    clinic_id: int
    is_active: bool  # as Room.is_active: the room and its clinic are both active
    timezone: str
    version: int
    unread_notifications: int = 0


@functools.cache
def _room_at_version_statement(with_unread: bool):
    # Built once and read through Core: on a kept page this is the request's main cost.
    rooms, clinics, versions = Room.__table__, Clinic.__table__, RoomVersion.__table__
    columns = [
        rooms.c.id,
        rooms.c.clinic_id,
        rooms.c.active & clinics.c.active,
        clinics.c.timezone,
        func.coalesce(versions.c.version, 0),
    ]
    if with_unread:
        columns.append(unread_count_of(bindparam("viewer_id")))
    return (
        select(*columns)
        .join_from(rooms, clinics, clinics.c.id == rooms.c.clinic_id)
        .outerjoin(versions, versions.c.room_id == rooms.c.id)
        .where(rooms.c.id == bindparam("room_id"))
    )


def room_at_version_read(viewer_id: int | None, room_id: int, *, with_unread: bool = True) -> ReadAlong | None:
    """``visible_room_at_version``'s statement, to read along with the caller (portal.auth.read_with_caller).

    ``viewer_id``: the id the browser session claims (None for a token, which reads no notifications).
    """
    if not in_id_range(room_id) or (with_unread and (viewer_id is None or not in_id_range(viewer_id))):
        return None
    params = {"room_id": room_id, "viewer_id": viewer_id} if with_unread else {"room_id": room_id}
    return ReadAlong(_room_at_version_statement(with_unread), params)


def room_at_version_read_for_any_caller(viewer_id: int | None, room_id: int) -> ReadAlong | None:
    """``room_at_version_read`` without the viewer's notifications, for a token caller as well (the API)."""
    return room_at_version_read(viewer_id, room_id, with_unread=False)


def visible_room_at_version(
    viewer: User, room_id: int, along: ReadAlong | None = None, *, with_unread: bool = True
) -> RoomAtVersion:
    """A room the viewer may see, as ``RoomAtVersion``, in one statement without loading the room.

    ``along``: ``room_at_version_read``'s answer (with the same ``with_unread``) when it was read with
    the caller.
    """
    if along is None:
        read = room_at_version_read(viewer.id, room_id, with_unread=with_unread)
        found = db.session.execute(read.statement, read.params).first() if read is not None else None
    else:
        found = along.row
    room = RoomAtVersion(*found) if found is not None else None
    if room is None or not can_view_room_schedule(viewer, room):
        raise NotFound(_("Room not found"))
    return room


def visible_workstation(viewer: User, workstation_id: int) -> Workstation:
    workstation = db.session.get(Workstation, workstation_id) if in_id_range(workstation_id) else None
    if workstation is None or not can_view_room_schedule(viewer, workstation.room):
        raise NotFound(_("Workstation not found"))
    return workstation


def upcoming_bookings(user: User, now: datetime, limit: int | None = None) -> list[Booking]:
    """The user's active bookings that have not ended, soonest first."""
    query = (
        select(Booking)
        .where(Booking.user_id == user.id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now)
        .order_by(Booking.start_at)
    )
    return db.session.scalars(query.limit(limit) if limit else query).all()


def past_bookings(user: User, now: datetime, limit: int = 50) -> list[Booking]:
    """The user's other bookings (ended, cancelled, no-shows), latest first."""
    return db.session.scalars(
        select(Booking)
        .where(Booking.user_id == user.id, ~(Booking.status.in_(ACTIVE_STATUSES) & (Booking.end_at > now)))
        .order_by(Booking.start_at.desc())
        .limit(limit)
    ).all()


def booking_to_check_in(user: User, workstation: Workstation, now: datetime) -> Booking | None:
    """The user's booking on `workstation` whose check-in window is open or about to open."""
    return db.session.scalar(
        select(Booking)
        .where(
            Booking.workstation_id == workstation.id,
            Booking.user_id == user.id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.end_at > now,
            Booking.start_at <= now + CHECKIN_OPENS_BEFORE,
        )
        .order_by(Booking.start_at)
    )


def room_bookings_with_no_shows(room: Room, start: datetime, end: datetime) -> list[tuple[Booking, int]]:
    """Active bookings of a room in [start, end), each with how often its doctor did not come (admins see it)."""
    bookings = active_bookings_overlapping(room.id, start, end)
    no_shows = no_show_counts({b.user_id for b in bookings if b.user_id})
    return [(booking, no_shows.get(booking.user_id, 0)) for booking in bookings]


def bookings_for_api(
    viewer: User, *, room: Room | None, since: datetime | None, until: datetime | None, status: str | None, limit: int
) -> list[Booking]:
    """The viewer's own bookings, or every booking of `room` (the caller checked that the viewer administers it)."""
    query = (
        select(Booking).where(Booking.room_id == room.id)
        if room is not None
        else select(Booking).where(Booking.user_id == viewer.id)
    )
    if since is not None:
        query = query.where(Booking.end_at > since)
    if until is not None:
        query = query.where(Booking.start_at < until)
    if status:
        if status not in BOOKING_STATUSES:
            raise Invalid(_("Unknown status."), code="invalid_parameter", field="status")
        query = query.where(Booking.status == status)
    return db.session.scalars(query.order_by(Booking.start_at, Booking.id).limit(limit)).all()


def no_show_counts(user_ids) -> dict[int, int]:
    """How many no-shows each doctor has (admins see it next to their bookings)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Booking.user_id, func.count())
        .where(Booking.user_id.in_(user_ids), Booking.status == "no_show")
        .group_by(Booking.user_id)
    )
    return dict(rows.all())


def active_bookings_overlapping(room_id: int, start: datetime, end: datetime) -> list[Booking]:
    """Active bookings of a room that overlap [start, end), by start (e.g. under a whole-room training)."""
    return db.session.scalars(
        select(Booking)
        .where(
            Booking.room_id == room_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.end_at > start,
            Booking.start_at < end,
        )
        .order_by(Booking.start_at, Booking.id)
    ).all()


def describe_booking(booking: Booking) -> dict:
    """A booking in someone's way, as the clinic's admins and trainers see it (they may see who booked)."""
    timezone = booking.room.timezone
    return {
        "kind": "booking",
        "id": booking.id,
        "workstation_id": booking.workstation_id,
        "workstation": booking.workstation.label,
        "start": iso(booking.start_at, timezone),
        "end": iso(booking.end_at, timezone),
        "user": booking.user.full_name if booking.user else None,
    }


def names_of(user_ids) -> dict[int, str]:
    """Full names by user id (who booked, for admins and trainers)."""
    user_ids = {user_id for user_id in user_ids if user_id is not None}
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all())
