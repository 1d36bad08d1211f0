"""Bookings: list, create (409 with the rule that failed and alternatives), cancel, check in."""
from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import field, int_arg, items, json_body, time_arg, time_field
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
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


def serialise_booking(booking, viewer):
    tz = booking.room.timezone
    data = {
        "id": booking.id, "workstation_id": booking.workstation_id, "workstation_label": booking.workstation.label,
        "room_id": booking.room_id, "user_id": booking.user_id,
        "start": iso(booking.start_at, tz), "end": iso(booking.end_at, tz), "status": booking.status,
        "checked_in_at": iso(booking.checked_in_at, tz), "cancelled_at": iso(booking.cancelled_at, tz),
        "cancel_reason": booking.cancel_reason,
    }
    if booking.user is not None and (booking.user_id == viewer.id or can_see_who_booked(viewer, booking.room)):
        data["user"] = {"id": booking.user.id, "name": booking.user.full_name}
    return data


@bp.get("/bookings")
def list_bookings():
    room_id = int_arg("room_id")
    room = None
    if room_id is not None:
        room = get_in_clinic_or_404(Room, room_id, current_user, lambda r: r.clinic_id)
        if not can_administer_room(current_user, room):
            raise NotAllowed(_("Only administrators of this clinic see all bookings of a room."))
    bookings = queries.bookings_for_api(current_user, room=room, since=time_arg("from"), until=time_arg("to"),
                                        status=request.args.get("status"),
                                        limit=int_arg("limit", 200, minimum=1, maximum=1000))
    return jsonify(items(bookings, lambda b: serialise_booking(b, current_user)))


@bp.post("/bookings")
def create_booking():
    data = json_body()
    workstation_id = field(data, "workstation_id", int)
    start, end = time_field(data, "start"), time_field(data, "end")
    user_id = field(data, "user_id", int, required=False)
    if end <= start:
        raise Invalid(_("The end must be after the start."), code="invalid_time", field="end")
    workstation = db.session.get(Workstation, workstation_id)
    if workstation is None:
        raise NotFound(_("Workstation not found"), code="not_found")
    owner = None
    if user_id is not None and user_id != current_user.id:
        owner = db.session.get(User, user_id)
        if owner is None or owner.clinic_id != workstation.room.clinic_id:
            raise NotFound(_("User not found"), code="not_found")
    booking = creating.create_booking(current_user, workstation=workstation, start=start, end=end, now=utcnow(),
                                      user=owner)
    response = jsonify(serialise_booking(booking, current_user))
    response.headers["Location"] = url_for("api.get_booking", booking_id=booking.id)
    return response, 201


@bp.get("/bookings/<int:booking_id>")
def get_booking(booking_id):
    return jsonify(serialise_booking(queries.visible_booking(current_user, booking_id), current_user))


@bp.delete("/bookings/<int:booking_id>")
def cancel_booking(booking_id):
    booking = queries.visible_booking(current_user, booking_id)
    data = request.get_json(silent=True) if request.content_length else None
    reason = field(data, "reason", str, required=False) if isinstance(data, dict) else None
    changes.cancel_booking(current_user, booking, now=utcnow(), reason=reason)
    return jsonify(serialise_booking(booking, current_user))


@bp.post("/bookings/<int:booking_id>/check-in")
def check_in(booking_id):
    booking = queries.visible_booking(current_user, booking_id)
    changes.check_in(current_user, booking, now=utcnow())
    return jsonify(serialise_booking(booking, current_user))


_time_schema = {"type": "string", "format": "date-time"}

SCHEMAS = {
    "Booking": {"type": "object", "required": ["id", "workstation_id", "start", "end", "status"], "properties": {
        "id": {"type": "integer"}, "workstation_id": {"type": "integer"}, "workstation_label": {"type": "string"},
        "room_id": {"type": "integer"}, "user_id": {"type": ["integer", "null"]},
        "start": _time_schema, "end": _time_schema,
        "status": {"type": "string", "enum": list(BOOKING_STATUSES)},
        "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
        "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
        "cancel_reason": {"type": ["string", "null"]},
        "user": {"type": "object", "description": "Shown to the owner and the clinic's admins and trainers",
                 "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    }},
    "BookingConflict": {
        "type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "enum": [
                    "slot_taken", "overlaps_own_booking", "quota_exceeded", "outside_hours", "closed", "in_past",
                    "beyond_horizon", "off_grid", "too_short", "too_long", "workstation_unavailable",
                    "training_in_room"]},
                "message": {"type": "string"}, "field": {"type": "string"},
                "alternatives": {"type": "array", "items": {"type": "object", "properties": {
                    "workstation_id": {"type": "integer"}, "workstation_label": {"type": "string"},
                    "start": _time_schema, "end": _time_schema}}},
            }}}},
}

_booking_id = [{"name": "booking_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_booking_conflict = {"409": json_response(
    "A booking rule failed (the code names it); `alternatives` suggests free times", "BookingConflict")}

PATHS = {
    "/bookings": {
        "get": {
            "summary": "The caller's bookings; admins: every booking of a room", "operationId": "listBookings",
            "parameters": [
                {"name": "room_id", "in": "query", "schema": {"type": "integer"},
                 "description": "Admins: all bookings of this room (403 for a room the caller does not administer)"},
                {"name": "from", "in": "query", "schema": _time_schema},
                {"name": "to", "in": "query", "schema": _time_schema},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(BOOKING_STATUSES)}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            ],
            "responses": {"200": json_response("Bookings", list_of("Booking")), **errors(400, 401, 403, 404)}},
        "post": {
            "summary": "Book a workstation", "operationId": "createBooking",
            "requestBody": body_schema({"type": "object", "required": ["workstation_id", "start", "end"],
                                        "properties": {
                                            "workstation_id": {"type": "integer"},
                                            "start": _time_schema, "end": _time_schema,
                                            "user_id": {"type": "integer",
                                                        "description": "Admins: book for this doctor"}}}),
            "responses": {"201": json_response("The new booking", "Booking"), **errors(400, 401, 403, 404),
                          **_booking_conflict}},
    },
    "/bookings/{booking_id}": {
        "get": {"summary": "One booking (owner, or the clinic's admins and trainers)", "operationId": "getBooking",
                "parameters": _booking_id,
                "responses": {"200": json_response("The booking", "Booking"), **errors(401, 404)}},
        "delete": {"summary": "Cancel a booking (owner until it starts, or an admin of the clinic)",
                   "operationId": "cancelBooking", "parameters": _booking_id,
                   "requestBody": {"required": False, "content": {"application/json": {"schema": {
                       "type": "object", "properties": {"reason": {"type": "string"}}}}}},
                   "responses": {"200": json_response("The cancelled booking", "Booking"),
                                 **errors(401, 403, 404, 409)}},
    },
    "/bookings/{booking_id}/check-in": {
        "post": {"summary": "Check in (from 10 minutes before the start until the grace period ends)",
                 "operationId": "checkInBooking", "parameters": _booking_id,
                 "responses": {"200": json_response("The checked-in booking", "Booking"),
                               **errors(401, 403, 404, 409)}},
    },
}
