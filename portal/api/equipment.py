"""Admin: the equipment inventory of a room, status changes and each item's history."""

from typing import Annotated, Literal

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.helpers import items
from portal.api.schema import Answer, Body, Id, Time, answers, api, documented, items_of, omittable
from portal.clinics import inventory, models
from portal.clinics.models import EQUIPMENT_STATUSES, Room, Workstation
from portal.clinics.permissions import get_administered_or_404
from portal.core.errors import Invalid
from portal.core.time import iso
from portal.extensions import db

EquipmentStatus = Annotated[str, documented(enum=list(EQUIPMENT_STATUSES))]


class EquipmentEvent(Answer):
    at: Time
    actor: str | None
    actor_id: int | None
    from_status: str | None = Field(alias="from")
    to: str
    note: str


class EquipmentItem(Answer):
    id: int
    room_id: int
    workstation_id: int | None
    kind: str
    inventory_number: str
    status: Literal[EQUIPMENT_STATUSES]
    notes: str
    history: list[EquipmentEvent] = omittable(description="oldest first")


class NewEquipment(Body):
    kind: str
    inventory_number: Annotated[str, documented(description="unique in the clinic")]
    workstation_id: Id = omittable()
    notes: str = ""
    status: EquipmentStatus = "in_service"


class EquipmentChange(Body):
    status: EquipmentStatus = omittable()
    notes: str = omittable()
    note: str = Field("", description="kept with the history entry")


def serialise_event(event, tz):
    return {
        "at": iso(event.at, tz),
        "actor": event.actor.full_name if event.actor else None,
        "actor_id": event.actor_id,
        "from": event.from_status,
        "to": event.to_status,
        "note": event.note,
    }


def serialise_item(item, *, with_history=False):
    body = {
        "id": item.id,
        "room_id": item.room_id,
        "workstation_id": item.workstation_id,
        "kind": item.kind,
        "inventory_number": item.inventory_number,
        "status": item.status,
        "notes": item.notes,
    }
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
@api.validate(resp=answers(403, 404, HTTP_200=(items_of(EquipmentItem), "Items")))
def list_equipment(room_id):
    """Equipment of a room (admin)"""
    room = get_administered_or_404(Room, room_id, current_user)
    return jsonify(items(inventory.equipment_of_clinic(room.clinic_id, room_id=room.id), serialise_item))


@bp.post("/rooms/<int:room_id>/equipment")
@api.validate(resp=answers(403, 404, 413, HTTP_201=(EquipmentItem, "The item")))
def create_equipment(room_id, json: NewEquipment):
    """Add an item to the inventory (admin); inventory numbers are unique"""
    room = get_administered_or_404(Room, room_id, current_user)
    item = inventory.create_equipment(
        current_user,
        room,
        kind=json.kind,
        inventory_number=json.inventory_number,
        workstation=workstation_by_id(json.workstation_id),
        notes=json.notes,
        status=json.status,
    )
    return jsonify(serialise_item(item, with_history=True)), 201


@bp.get("/equipment/<int:item_id>")
@api.validate(resp=answers(403, 404, HTTP_200=(EquipmentItem, "The item")))
def get_equipment(item_id):
    """An item with its history (admin)"""
    item = get_administered_or_404(models.EquipmentItem, item_id, current_user)
    return jsonify(serialise_item(item, with_history=True))


@bp.patch("/equipment/<int:item_id>")
@api.validate(resp=answers(403, 404, 413, HTTP_200=(EquipmentItem, "The item")))
def update_equipment(item_id, json: EquipmentChange):
    """Change an item's status or notes (admin); `note` is kept with the history entry"""
    item = get_administered_or_404(models.EquipmentItem, item_id, current_user)
    inventory.update_equipment(current_user, item, status=json.status, notes=json.notes, note=json.note)
    return jsonify(serialise_item(item, with_history=True))
