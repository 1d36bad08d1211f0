"""GET /rooms/{id}/availability: the hot path of the portal.

Answers come from Redis when a fresh one is there (see portal.booking.cache
for why they are never stale): then the request costs the caller's token
check and two Redis round trips, no matter how many bookings exist.
"""
import json
from datetime import date

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import int_arg
from portal.api.openapi import errors, json_response
from portal.booking import cache
from portal.booking.availability import availability_document, grid_ceil, load_room_state, local_day_range
from portal.clinics.models import Room
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotFound
from portal.core.permissions import can_see_clinic, get_in_clinic_or_404
from portal.core.time import to_local

MAX_DAYS = 31


def _first_day():
    raw = request.args.get("date")
    if not raw:
        return to_local(utcnow(), current_user.timezone).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(_("The parameter %(name)s must be a date (YYYY-MM-DD).", name="date"),
                      code="invalid_parameter", field="date") from None


@bp.get("/rooms/<int:room_id>/availability")
def room_availability(room_id):
    first_day = _first_day()
    days = int_arg("days", 1, minimum=1, maximum=MAX_DAYS)
    now = utcnow()

    def compute():
        room = get_in_clinic_or_404(Room, room_id, current_user, lambda r: r.clinic_id)
        start, end = local_day_range(room, first_day, days)
        document = availability_document(load_room_state(room, start, end), now)
        # Free times start at the next grid line: the answer holds until the clock reaches it.
        valid_until = grid_ceil(now, room)
        return room.clinic_id, json.dumps(document, ensure_ascii=False), valid_until.timestamp()

    clinic_id, text = cache.get_or_compute(room_id, f"{first_day.isoformat()}:{days}", compute)
    if not can_see_clinic(current_user, clinic_id):
        raise NotFound(_("Room not found"), code="not_found")
    return Response(text, mimetype="application/json")


_span = {"type": "object", "required": ["start", "end"], "properties": {
    "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"}}}

SCHEMAS = {
    "Availability": {
        "type": "object", "required": ["room", "slot_minutes", "workstations", "sessions"],
        "properties": {
            "room": {"type": "object", "required": ["id", "name", "timezone"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "timezone": {"type": "string"}}},
            "from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"},
            "slot_minutes": {"type": "integer"}, "min_minutes": {"type": "integer"},
            "max_minutes": {"type": "integer"},
            "opening_hours": {"type": "array", "items": _span},
            "closures": {"type": "array", "items": {**_span, "properties": {
                **_span["properties"], "reason": {"type": "string"}}}},
            "workstations": {"type": "array", "items": {
                "type": "object", "required": ["id", "label", "status", "busy", "free"], "properties": {
                    "id": {"type": "integer"}, "label": {"type": "string"},
                    "status": {"type": "string", "enum": ["active", "out_of_service", "retired"]},
                    "busy": {"type": "array", "items": {**_span, "required": ["start", "end", "kind"], "properties": {
                        **_span["properties"],
                        "kind": {"type": "string", "enum": ["booking", "training", "closure", "closed"]}}}},
                    "free": {"type": "array", "items": _span,
                             "description": "Bookable intervals: on the grid, open, not past, inside the horizon"},
                }}},
            "sessions": {"type": "array", "items": {"type": "object", "properties": {
                **_span["properties"], "id": {"type": "integer"}, "title": {"type": "string"},
                "whole_room": {"type": "boolean"}, "capacity": {"type": "integer"},
                "seats_left": {"type": "integer"}}}},
        },
    },
}

PATHS = {
    "/rooms/{room_id}/availability": {"get": {
        "summary": "Busy and free intervals of every workstation of a room",
        "operationId": "getRoomAvailability",
        "parameters": [
            {"name": "room_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "First local day (default: today in the caller's clinic)"},
            {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS,
                                                        "default": 1}},
        ],
        "responses": {"200": json_response("Availability", "Availability"), **errors(400, 401, 404)},
    }},
}

