"""Bookings: list, create (409 with the rule that failed and alternatives), cancel, check in."""

from typing import Literal

from flask import jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.helpers import items
from portal.api.schema import (
    Answer,
    Body,
    ErrorDetail,
    Id,
    Query,
    QueryId,
    QueryTimestamp,
    Time,
    Timestamp,
    answers,
    api,
    items_of,
    omittable,
    query_int,
)
from portal.auth.models import User
from portal.booking import changes, creating, queries
from portal.booking.models import BOOKING_STATUSES
from portal.booking.permissions import can_administer_room, can_see_who_booked
from portal.clinics.models import Room, Workstation
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotAllowed, NotFound
from portal.core.permissions import get_in_clinic_or_404
from portal.core.time import iso
from portal.extensions import db

CONFLICT_CODES = (
    "slot_taken",
    "overlaps_own_booking",
    "quota_exceeded",
    "outside_hours",
    "closed",
    "in_past",
    "beyond_horizon",
    "off_grid",
    "too_short",
    "too_long",
    "workstation_unavailable",
    "training_in_room",
)


class Person(Answer):
    id: int
    name: str


class Booking(Answer):
    id: int
    workstation_id: int
    workstation_label: str
    room_id: int
    user_id: int | None
    start: Time
    end: Time
    status: Literal[BOOKING_STATUSES]
    checked_in_at: Time | None
    cancelled_at: Time | None
    cancel_reason: str | None
    user: Person = omittable(description="Shown to the owner and the clinic's admins and trainers")


class Alternative(Answer):
    workstation_id: int
    workstation_label: str
    start: Time
    end: Time


class ConflictDetail(ErrorDetail):
    code: Literal[CONFLICT_CODES]
    alternatives: list[Alternative] = omittable(description="free times nearby")


class BookingConflict(Answer):
    """A booking rule failed (the code names it); `alternatives` suggests free times."""

    error: ConflictDetail


class BookingFilter(Query):
    room_id: QueryId = omittable(description="admins: every booking of this room")
    since: QueryTimestamp = omittable(alias="from", description="bookings ending after this time")
    until: QueryTimestamp = omittable(alias="to", description="bookings starting before this time")
    status: Literal[BOOKING_STATUSES] = omittable()
    limit: query_int(1, 1000) = Field(200)


class NewBooking(Body):
    workstation_id: Id
    start: Timestamp
    end: Timestamp
    user_id: Id = omittable(description="Admins: book for this doctor")


class Cancellation(Body):
    reason: str = omittable()


def serialise_booking(booking, viewer):
    tz = booking.room.timezone
    data = {
        "id": booking.id,
        "workstation_id": booking.workstation_id,
        "workstation_label": booking.workstation.label,
        "room_id": booking.room_id,
        "user_id": booking.user_id,
        "start": iso(booking.start_at, tz),
        "end": iso(booking.end_at, tz),
        "status": booking.status,
        "checked_in_at": iso(booking.checked_in_at, tz),
        "cancelled_at": iso(booking.cancelled_at, tz),
        "cancel_reason": booking.cancel_reason,
    }
    if booking.user is not None and (booking.user_id == viewer.id or can_see_who_booked(viewer, booking.room)):
        data["user"] = {"id": booking.user.id, "name": booking.user.full_name}
    return data


@bp.get("/bookings")
@api.validate(resp=answers(403, 404, HTTP_200=(items_of(Booking), "Bookings, by start")))
def list_bookings(query: BookingFilter):
    """The caller's bookings (admins: a room's, with room_id)"""
    room = None
    if query.room_id is not None:
        room = get_in_clinic_or_404(Room, query.room_id, current_user, lambda r: r.clinic_id)
        if not can_administer_room(current_user, room):
            raise NotAllowed(_("Only administrators of this clinic see all bookings of a room."))
    bookings = queries.bookings_for_api(
        current_user, room=room, since=query.since, until=query.until, status=query.status, limit=query.limit
    )
    return jsonify(items(bookings, lambda b: serialise_booking(b, current_user)))


@bp.post("/bookings")
@api.validate(
    resp=answers(
        403,
        404,
        413,
        HTTP_201=(Booking, "The new booking"),
        HTTP_409=(BookingConflict, "A booking rule failed (the code names it); `alternatives` suggests free times"),
    )
)
def create_booking(json: NewBooking):
    """Book a workstation"""
    if json.end <= json.start:
        raise Invalid(_("The end must be after the start."), code="invalid_time", field="end")
    workstation = db.session.get(Workstation, json.workstation_id)
    if workstation is None:
        raise NotFound(_("Workstation not found"), code="not_found")
    owner = None
    if json.user_id is not None and json.user_id != current_user.id:
        owner = db.session.get(User, json.user_id)
        if owner is None or owner.clinic_id != workstation.room.clinic_id:
            raise NotFound(_("User not found"), code="not_found")
    booking = creating.create_booking(
        current_user, workstation=workstation, start=json.start, end=json.end, now=utcnow(), user=owner
    )
    response = jsonify(serialise_booking(booking, current_user))
    response.headers["Location"] = url_for("api.get_booking", booking_id=booking.id)
    return response, 201


@bp.get("/bookings/<int:booking_id>")
@api.validate(resp=answers(404, HTTP_200=(Booking, "The booking")))
def get_booking(booking_id):
    """One booking (owner, or the clinic's admins and trainers)"""
    return jsonify(serialise_booking(queries.visible_booking(current_user, booking_id), current_user))


@bp.delete("/bookings/<int:booking_id>")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(Booking, "The cancelled booking")))
def cancel_booking(booking_id, json: Cancellation):
    """Cancel a booking (owner until it starts, or an admin of the clinic)"""
    booking = queries.visible_booking(current_user, booking_id)
    changes.cancel_booking(current_user, booking, now=utcnow(), reason=json.reason)
    return jsonify(serialise_booking(booking, current_user))


@bp.post("/bookings/<int:booking_id>/check-in")
@api.validate(resp=answers(403, 404, 409, HTTP_200=(Booking, "The checked-in booking")))
def check_in_booking(booking_id):
    """Check in (from 10 minutes before the start until the grace period ends)"""
    booking = queries.visible_booking(current_user, booking_id)
    changes.check_in(current_user, booking, now=utcnow())
    return jsonify(serialise_booking(booking, current_user))
