"""Admin: a room's details, booking policy, opening hours, closures and workstations."""
from datetime import datetime

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.clinics import serialise_room
from portal.api.helpers import field, items, json_body
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
from portal.clinics import services
from portal.clinics.models import DEFAULT_POLICY, Closure, Room, Workstation
from portal.clinics.permissions import get_administered_or_404
from portal.core.db import utcnow
from portal.core.errors import Invalid
from portal.core.time import iso, parse_iso


def serialise_hours(room):
    return [{"weekday": h.weekday, "open": h.opens.strftime("%H:%M"), "close": h.closes.strftime("%H:%M")}
            for h in room.opening_hours]


def serialise_closure(closure):
    tz = closure.room.timezone
    return {"id": closure.id, "room_id": closure.room_id, "start": iso(closure.start_at, tz),
            "end": iso(closure.end_at, tz), "reason": closure.reason}


def serialise_workstation(workstation):
    return {"id": workstation.id, "room_id": workstation.room_id, "label": workstation.label,
            "specs": workstation.specs, "status": workstation.status}


@bp.patch("/rooms/<int:room_id>")
def update_room(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    data = json_body()
    services.update_room(
        current_user, room, name=field(data, "name", str, required=False, default=room.name),
        location=field(data, "location", str, required=False, default=room.location),
        capacity=field(data, "capacity", int, required=False, default=room.capacity))
    return jsonify(serialise_room(room))


@bp.patch("/rooms/<int:room_id>/policy")
def update_policy(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    data = json_body()
    services.update_policy(current_user, room, {name: field(data, name, int) for name in data})
    return jsonify(room.policy())


@bp.get("/rooms/<int:room_id>/hours")
def get_hours(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    return jsonify(hours=serialise_hours(room), timezone=room.timezone)


def _clock(value):
    """A "HH:MM" string as a time, or None."""
    try:
        return datetime.strptime(value, "%H:%M").time() if isinstance(value, str) and len(value) == 5 else None
    except ValueError:
        return None


@bp.put("/rooms/<int:room_id>/hours")
def put_hours(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    rows = field(json_body(), "hours", list)
    intervals = []
    for row in rows:
        if not isinstance(row, dict):
            raise Invalid(_("Each opening interval is an object with weekday, open and close."),
                          code="invalid_field", field="hours")
        opens, closes = _clock(row.get("open")), _clock(row.get("close"))
        if opens is None or closes is None:
            raise Invalid(_("Times must look like 08:00."), code="invalid_time", field="hours")
        intervals.append((row.get("weekday"), opens, closes))
    services.set_opening_hours(current_user, room, intervals)
    return jsonify(hours=serialise_hours(room), timezone=room.timezone)


@bp.get("/rooms/<int:room_id>/closures")
def list_closures(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    return jsonify(items(services.closures_of_room(room), serialise_closure))


def _time_field(data, name):
    raw = field(data, name, str)
    value = parse_iso(raw)
    if value is None:
        raise Invalid(_("%(name)s must be an ISO 8601 time with an offset, e.g. 2026-12-31T09:00:00+03:00.",
                        name=name), code="invalid_time", field=name)
    return value


@bp.post("/rooms/<int:room_id>/closures")
def create_closure(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    data = json_body()
    closure = services.add_closure(current_user, room, start=_time_field(data, "start"),
                                   end=_time_field(data, "end"), reason=field(data, "reason", str))
    return jsonify(serialise_closure(closure)), 201


@bp.post("/rooms/<int:room_id>/closures/public-holidays")
def create_holiday_closures(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    closures = services.add_public_holidays(current_user, room, year=field(json_body(), "year", int), now=utcnow())
    return jsonify(items(closures, serialise_closure)), 201


@bp.delete("/closures/<int:closure_id>")
def delete_closure(closure_id):
    closure = get_administered_or_404(Closure, closure_id, current_user)
    services.delete_closure(current_user, closure)
    return "", 204


@bp.get("/rooms/<int:room_id>/workstations")
def list_workstations(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    return jsonify(items(room.workstations, serialise_workstation))


@bp.post("/rooms/<int:room_id>/workstations")
def create_workstation(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    data = json_body()
    workstation = services.create_workstation(current_user, room, label=field(data, "label", str),
                                              specs=field(data, "specs", str, required=False, default=""))
    return jsonify(serialise_workstation(workstation)), 201


@bp.patch("/workstations/<int:workstation_id>")
def update_workstation(workstation_id):
    workstation = get_administered_or_404(Workstation, workstation_id, current_user)
    data = json_body()
    if "label" in data or "specs" in data:
        services.update_workstation(
            current_user, workstation, label=field(data, "label", str, required=False, default=workstation.label),
            specs=field(data, "specs", str, required=False, default=workstation.specs))
    moved, cancelled = [], []
    if "status" in data:
        moved, cancelled = services.set_workstation_status(
            current_user, workstation, field(data, "status", str), now=utcnow())
    return jsonify({**serialise_workstation(workstation), "moved_bookings": [b.id for b in moved],
                    "cancelled_bookings": [b.id for b in cancelled]})


SCHEMAS = {
    "OpeningInterval": {"type": "object", "required": ["weekday", "open", "close"], "properties": {
        "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "Monday is 0"},
        "open": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "close": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}},
    "OpeningHours": {"type": "object", "required": ["hours"], "properties": {
        "hours": {"type": "array", "items": {"$ref": "#/components/schemas/OpeningInterval"}},
        "timezone": {"type": "string"}}},
    "Closure": {"type": "object", "required": ["id", "room_id", "start", "end", "reason"], "properties": {
        "id": {"type": "integer"}, "room_id": {"type": "integer"},
        "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
        "reason": {"type": "string"}}},
    "Policy": {"type": "object", "properties": {name: {"type": "integer"} for name in DEFAULT_POLICY}},
    "Workstation": {"type": "object", "required": ["id", "room_id", "label", "status"], "properties": {
        "id": {"type": "integer"}, "room_id": {"type": "integer"}, "label": {"type": "string"},
        "specs": {"type": "string"}, "status": {"type": "string", "enum": ["active", "out_of_service", "retired"]},
        "moved_bookings": {"type": "array", "items": {"type": "integer"}},
        "cancelled_bookings": {"type": "array", "items": {"type": "integer"}}}},
}


def _path_id(name):
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


_room = _path_id("room_id")

PATHS = {
    "/rooms/{room_id}": {"patch": {
        "summary": "Change a room's name, location or training capacity (admin)", "operationId": "updateRoom",
        "parameters": _room, "requestBody": body_schema({"type": "object", "properties": {
            "name": {"type": "string"}, "location": {"type": "string"},
            "capacity": {"type": "integer", "minimum": 0}}}),
        "responses": {"200": json_response("The room", "Room"), **errors(400, 401, 403, 404)}}},
    "/rooms/{room_id}/policy": {"patch": {
        "summary": "Change a room's booking policy (admin); settings not sent keep their values",
        "operationId": "updatePolicy", "parameters": _room, "requestBody": body_schema("Policy"),
        "responses": {"200": json_response("The whole policy", "Policy"), **errors(400, 401, 403, 404)}}},
    "/rooms/{room_id}/hours": {
        "get": {"summary": "Weekly opening hours, clinic's local time (admin)", "operationId": "getHours",
                "parameters": _room,
                "responses": {"200": json_response("Opening hours", "OpeningHours"), **errors(401, 403, 404)}},
        "put": {"summary": "Replace the weekly opening hours (admin); several intervals a weekday allowed",
                "operationId": "putHours", "parameters": _room, "requestBody": body_schema("OpeningHours"),
                "responses": {"200": json_response("Opening hours", "OpeningHours"),
                              **errors(400, 401, 403, 404)}}},
    "/rooms/{room_id}/closures": {
        "get": {"summary": "A room's closures (admin)", "operationId": "listClosures", "parameters": _room,
                "responses": {"200": json_response("Closures", list_of("Closure")), **errors(401, 403, 404)}},
        "post": {"summary": "Close a room for a time (admin)", "operationId": "createClosure", "parameters": _room,
                 "requestBody": body_schema({"type": "object", "required": ["start", "end", "reason"],
                                             "properties": {"start": {"type": "string", "format": "date-time"},
                                                            "end": {"type": "string", "format": "date-time"},
                                                            "reason": {"type": "string", "maxLength": 200}}}),
                 "responses": {"201": json_response("The closure", "Closure"), **errors(400, 401, 403, 404)}}},
    "/rooms/{room_id}/closures/public-holidays": {"post": {
        "summary": "Close a room on every Russian federal non-working day of a year (admin; repeat-safe)",
        "operationId": "createHolidayClosures", "parameters": _room,
        "requestBody": body_schema({"type": "object", "required": ["year"],
                                    "properties": {"year": {"type": "integer"}}}),
        "responses": {"201": json_response("The closures added", list_of("Closure")),
                      **errors(400, 401, 403, 404)}}},
    "/closures/{closure_id}": {"delete": {
        "summary": "Remove a closure (admin)", "operationId": "deleteClosure", "parameters": _path_id("closure_id"),
        "responses": {"204": {"description": "Removed"}, **errors(401, 403, 404)}}},
    "/rooms/{room_id}/workstations": {
        "get": {"summary": "Workstations of a room (admin)", "operationId": "listWorkstations", "parameters": _room,
                "responses": {"200": json_response("Workstations", list_of("Workstation")),
                              **errors(401, 403, 404)}},
        "post": {"summary": "Add a workstation (admin)", "operationId": "createWorkstation", "parameters": _room,
                 "requestBody": body_schema({"type": "object", "required": ["label"], "properties": {
                     "label": {"type": "string", "maxLength": 40}, "specs": {"type": "string"}}}),
                 "responses": {"201": json_response("The workstation", "Workstation"),
                               **errors(400, 401, 403, 404)}}},
    "/workstations/{workstation_id}": {"patch": {
        "summary": "Relabel a workstation or change its status (admin). Taking it out of service moves its "
                   "future bookings to a free active workstation of the room, else cancels them",
        "operationId": "updateWorkstation", "parameters": _path_id("workstation_id"),
        "requestBody": body_schema({"type": "object", "properties": {
            "label": {"type": "string"}, "specs": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "out_of_service", "retired"]}}}),
        "responses": {"200": json_response("The workstation, with the bookings moved and cancelled",
                                           "Workstation"), **errors(400, 401, 403, 404)}}},
}
