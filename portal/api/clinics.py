"""Clinics and their rooms."""
from flask import jsonify
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import field, items, json_body
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
from portal.clinics import services
from portal.clinics.models import Clinic
from portal.core.db import utcnow
from portal.core.permissions import get_in_clinic_or_404, is_superadmin


def serialise_clinic(clinic):
    return {"id": clinic.id, "name": clinic.name, "short_name": clinic.short_name, "code": clinic.code,
            "address": clinic.address, "timezone": clinic.timezone, "active": clinic.active}


def serialise_room(room):
    return {"id": room.id, "clinic_id": room.clinic_id, "name": room.name, "location": room.location,
            "capacity": room.capacity, "timezone": room.timezone, "active": room.active, "policy": room.policy()}


@bp.get("/clinics")
def list_clinics():
    return jsonify(items(services.visible_clinics(current_user, include_inactive=is_superadmin(current_user)),
                         serialise_clinic))


@bp.post("/clinics")
def create_clinic():
    data = json_body()
    clinic = services.create_clinic(
        current_user, name=field(data, "name", str), short_name=field(data, "short_name", str),
        timezone=field(data, "timezone", str, required=False),
        address=field(data, "address", str, required=False, default=""),
        code=field(data, "code", str, required=False))
    return jsonify(serialise_clinic(clinic)), 201


@bp.patch("/clinics/<int:clinic_id>")
def update_clinic(clinic_id):
    clinic = get_in_clinic_or_404(Clinic, clinic_id, current_user, lambda c: c.id)
    data = json_body()
    active = field(data, "active", bool, required=False)
    changes = {name: value for name, value in data.items() if name != "active"}
    for name in changes:
        field(data, name, str, required=name not in ("code", "address"))
    services.update_clinic(current_user, clinic, changes)
    if active is not None:
        services.set_clinic_active(current_user, clinic, active, now=utcnow())
    return jsonify(serialise_clinic(clinic))


@bp.get("/clinics/<int:clinic_id>/rooms")
def list_rooms(clinic_id):
    clinic = get_in_clinic_or_404(Clinic, clinic_id, current_user, lambda c: c.id)
    return jsonify(items(clinic.rooms, serialise_room))


@bp.post("/clinics/<int:clinic_id>/rooms")
def create_room(clinic_id):
    clinic = get_in_clinic_or_404(Clinic, clinic_id, current_user, lambda c: c.id)
    data = json_body()
    room = services.create_room(
        current_user, clinic, name=field(data, "name", str),
        location=field(data, "location", str, required=False, default=""),
        capacity=field(data, "capacity", int))
    return jsonify(serialise_room(room)), 201


SCHEMAS = {
    "Clinic": {"type": "object", "required": ["id", "name", "short_name", "code", "timezone", "active"],
               "properties": {
                   "id": {"type": "integer"}, "name": {"type": "string"}, "short_name": {"type": "string"},
                   "code": {"type": ["string", "null"], "description": "the polyclinic's code in the city's "
                                                                       "systems, matched to the sign-in claim"},
                   "address": {"type": "string"}, "timezone": {"type": "string"}, "active": {"type": "boolean"}}},
    "Room": {"type": "object", "required": ["id", "clinic_id", "name", "capacity"], "properties": {
        "id": {"type": "integer"}, "clinic_id": {"type": "integer"}, "name": {"type": "string"},
        "location": {"type": "string"}, "capacity": {"type": "integer"}, "timezone": {"type": "string"},
        "active": {"type": "boolean"}, "policy": {"type": "object"}}},
}

_clinic_id = [{"name": "clinic_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

PATHS = {
    "/clinics": {
        "get": {"summary": "Clinics the caller may see", "operationId": "listClinics",
                "responses": {"200": json_response("Clinics", list_of("Clinic")), **errors(401)}},
        "post": {"summary": "Create a clinic (superadmin)", "operationId": "createClinic",
                 "requestBody": body_schema({"type": "object", "required": ["name", "short_name"], "properties": {
                     "name": {"type": "string"}, "short_name": {"type": "string"}, "code": {"type": "string"},
                     "timezone": {"type": "string"}, "address": {"type": "string"}}}),
                 "responses": {"201": json_response("The new clinic", "Clinic"), **errors(400, 401, 403)}},
    },
    "/clinics/{clinic_id}": {
        "patch": {"summary": "Change a clinic: name, short name, code, address, time zone, active (superadmin). "
                             "Deactivating cancels its rooms' future bookings and trainings and signs its people "
                             "out", "operationId": "updateClinic", "parameters": _clinic_id,
                  "requestBody": body_schema({"type": "object", "properties": {
                      "name": {"type": "string"}, "short_name": {"type": "string"},
                      "code": {"type": ["string", "null"]}, "address": {"type": "string"},
                      "timezone": {"type": "string"}, "active": {"type": "boolean"}}}),
                  "responses": {"200": json_response("The clinic", "Clinic"), **errors(400, 401, 403, 404)}},
    },
    "/clinics/{clinic_id}/rooms": {
        "get": {"summary": "Rooms of a clinic", "operationId": "listRooms", "parameters": _clinic_id,
                "responses": {"200": json_response("Rooms", list_of("Room")), **errors(401, 404)}},
        "post": {"summary": "Create a room with the default policy (admin)", "operationId": "createRoom",
                 "parameters": _clinic_id,
                 "requestBody": body_schema({"type": "object", "required": ["name", "capacity"], "properties": {
                     "name": {"type": "string"}, "location": {"type": "string"},
                     "capacity": {"type": "integer", "minimum": 0}}}),
                 "responses": {"201": json_response("The new room", "Room"), **errors(400, 401, 403, 404)}},
    },
}

