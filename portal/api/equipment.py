"""Admin: the equipment inventory of a room, status changes and each item's history."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import field, items, json_body
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
from portal.clinics import services
from portal.clinics.models import EQUIPMENT_STATUSES, EquipmentItem, Room, Workstation
from portal.clinics.permissions import get_administered_or_404
from portal.core.errors import Invalid
from portal.core.time import iso
from portal.extensions import db


def serialise_event(event, tz):
    return {"at": iso(event.at, tz), "actor": event.actor.full_name if event.actor else None,
            "actor_id": event.actor_id, "from": event.from_status, "to": event.to_status, "note": event.note}


def serialise_item(item, *, with_history=False):
    body = {"id": item.id, "room_id": item.room_id, "workstation_id": item.workstation_id, "kind": item.kind,
            "inventory_number": item.inventory_number, "status": item.status, "notes": item.notes}
    if with_history:
        body["history"] = [serialise_event(event, item.room.timezone) for event in item.history]
    return body


def workstation_by_id(workstation_id):
    """The workstation named in a body (the service checks that it is in the right room)."""
    if workstation_id is None:
        return None
    workstation = db.session.get(Workstation, workstation_id)
    if workstation is None:
        raise Invalid(_("There is no such workstation."), code="invalid_workstation", field="workstation_id")
    return workstation


@bp.get("/rooms/<int:room_id>/equipment")
def list_equipment(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    return jsonify(items(services.equipment_of_clinic(room.clinic_id, room_id=room.id), serialise_item))


@bp.post("/rooms/<int:room_id>/equipment")
def create_equipment(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    data = json_body()
    item = services.create_equipment(
        current_user, room, kind=field(data, "kind", str), inventory_number=field(data, "inventory_number", str),
        workstation=workstation_by_id(field(data, "workstation_id", int, required=False)),
        notes=field(data, "notes", str, required=False, default=""),
        status=field(data, "status", str, required=False, default="in_service"))
    return jsonify(serialise_item(item, with_history=True)), 201


@bp.get("/equipment/<int:item_id>")
def get_equipment(item_id):
    item = get_administered_or_404(EquipmentItem, item_id, current_user)
    return jsonify(serialise_item(item, with_history=True))


@bp.patch("/equipment/<int:item_id>")
def update_equipment(item_id):
    item = get_administered_or_404(EquipmentItem, item_id, current_user)
    data = json_body()
    services.update_equipment(current_user, item, status=field(data, "status", str, required=False),
                              notes=field(data, "notes", str, required=False),
                              note=field(data, "note", str, required=False, default=""))
    return jsonify(serialise_item(item, with_history=True))


_status = {"type": "string", "enum": list(EQUIPMENT_STATUSES)}

SCHEMAS = {
    "EquipmentEvent": {"type": "object", "required": ["at", "actor", "from", "to", "note"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "actor": {"type": ["string", "null"]},
        "actor_id": {"type": ["integer", "null"]}, "from": {"type": ["string", "null"]}, "to": {"type": "string"},
        "note": {"type": "string"}}},
    "EquipmentItem": {"type": "object", "required": ["id", "room_id", "kind", "inventory_number", "status"],
                      "properties": {
                          "id": {"type": "integer"}, "room_id": {"type": "integer"},
                          "workstation_id": {"type": ["integer", "null"]}, "kind": {"type": "string"},
                          "inventory_number": {"type": "string"}, "status": _status, "notes": {"type": "string"},
                          "history": {"type": "array", "description": "oldest first",
                                      "items": {"$ref": "#/components/schemas/EquipmentEvent"}}}},
}

_room = [{"name": "room_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_item = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

PATHS = {
    "/rooms/{room_id}/equipment": {
        "get": {"summary": "Equipment of a room (admin)", "operationId": "listEquipment", "parameters": _room,
                "responses": {"200": json_response("Items", list_of("EquipmentItem")), **errors(401, 403, 404)}},
        "post": {"summary": "Add an item to the inventory (admin); inventory numbers are unique",
                 "operationId": "createEquipment", "parameters": _room,
                 "requestBody": body_schema({"type": "object", "required": ["kind", "inventory_number"],
                                             "properties": {
                                                 "kind": {"type": "string"}, "inventory_number": {"type": "string"},
                                                 "workstation_id": {"type": "integer"}, "notes": {"type": "string"},
                                                 "status": _status}}),
                 "responses": {"201": json_response("The item", "EquipmentItem"), **errors(400, 401, 403, 404)}}},
    "/equipment/{item_id}": {
        "get": {"summary": "An item with its history (admin)", "operationId": "getEquipment", "parameters": _item,
                "responses": {"200": json_response("The item", "EquipmentItem"), **errors(401, 403, 404)}},
        "patch": {"summary": "Change an item's status or notes (admin); `note` is kept with the history entry",
                  "operationId": "updateEquipment", "parameters": _item,
                  "requestBody": body_schema({"type": "object", "properties": {
                      "status": _status, "notes": {"type": "string"}, "note": {"type": "string"}}}),
                  "responses": {"200": json_response("The item", "EquipmentItem"), **errors(400, 401, 403, 404)}}},
}
