"""A room's workstations and equipment, their service status and history.

Like every rule module, each function takes the acting user (`actor`; None means the command line),
checks the permission again, raises portal.core.errors on a broken rule and only flushes.
"""

from collections.abc import Collection, Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.clinics.models import (
    EQUIPMENT_STATUSES,
    WORKSTATION_STATUSES,
    EquipmentEvent,
    EquipmentItem,
    Room,
    Workstation,
)
from portal.clinics.permissions import require_clinic_admin
from portal.clinics.signals import workstation_left_service
from portal.core import audit
from portal.core.errors import Invalid
from portal.core.permissions import Actor
from portal.extensions import db


def _workstation_fields(room, label, specs, workstation_id=None):
    label = (label or "").strip()
    specs = (specs or "").strip()
    if not label or len(label) > 40:
        raise Invalid(_("Enter a label (up to 40 characters), e.g. PC-3."), code="invalid_label", field="label")
    if len(specs) > 2000:
        raise Invalid(_("The specs are too long (up to 2000 characters)."), code="invalid_specs", field="specs")
    same_label = (
        select(func.count()).select_from(Workstation).where(Workstation.room_id == room.id, Workstation.label == label)
    )
    if workstation_id is not None:
        same_label = same_label.where(Workstation.id != workstation_id)
    if db.session.scalar(same_label):
        raise Invalid(
            _("This room already has a workstation labelled %(label)s.", label=label), code="label_taken", field="label"
        )
    return label, specs


def create_workstation(actor: Actor | None, room: Room, *, label: str, specs: str = "") -> Workstation:
    """A new active workstation of `room`; labels are unique within the room."""
    require_clinic_admin(actor, room.clinic_id)
    label, specs = _workstation_fields(room, label, specs)
    workstation = Workstation(room=room, label=label, specs=specs, status="active")
    db.session.add(workstation)
    db.session.flush()
    audit.record(
        "workstation_created",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=workstation,
        details={"room_id": room.id, "label": label},
    )
    return workstation


def update_workstation(actor: Actor | None, workstation: Workstation, *, label: str, specs: str) -> Workstation:
    """Relabel a workstation or change its specs."""
    require_clinic_admin(actor, workstation.room.clinic_id)
    label, specs = _workstation_fields(workstation.room, label, specs, workstation_id=workstation.id)
    workstation.label, workstation.specs = label, specs
    db.session.flush()
    audit.record(
        "workstation_updated",
        actor=actor,
        clinic_id=workstation.room.clinic_id,
        obj=workstation,
        details={"label": label},
    )
    return workstation


def set_workstation_status(
    actor: Actor | None, workstation: Workstation, status: str, *, now: datetime
) -> tuple[list, list]:
    """Set `active | out_of_service | retired`; returns (moved, cancelled) future bookings.

    Booking rule 8: when an active workstation stops being bookable, its future
    bookings move to a free active workstation of the same room, else they are
    cancelled, and each doctor is told (the booking package does that part).
    """
    require_clinic_admin(actor, workstation.room.clinic_id)
    if status not in WORKSTATION_STATUSES:
        raise Invalid(_("Choose a status: active, out of service or retired."), code="invalid_status", field="status")
    previous = workstation.status
    if status == previous:
        return [], []
    workstation.status = status
    db.session.flush()
    moved, cancelled = [], []
    if previous == "active":
        for _receiver, (moved_here, cancelled_here) in workstation_left_service.send(workstation, actor=actor, now=now):
            moved, cancelled = moved + moved_here, cancelled + cancelled_here
    audit.record(
        "workstation_status_changed",
        actor=actor,
        clinic_id=workstation.room.clinic_id,
        obj=workstation,
        details={"from": previous, "to": status, "moved": len(moved), "cancelled": len(cancelled)},
    )
    return moved, cancelled


def check_status(status: str, allowed: Collection[str]) -> None:
    if status not in allowed:
        raise Invalid(_("Unknown status: %(status)s.", status=status), code="invalid_status", field="status")


def check_workstation_of_room(room: Room, workstation: Workstation | None) -> None:
    if workstation is not None and workstation.room_id != room.id:
        raise Invalid(_("The workstation belongs to another room."), code="invalid_workstation", field="workstation_id")


def _history_entry(item, actor, from_status, note):
    item.history.append(
        EquipmentEvent(actor_id=getattr(actor, "id", None), from_status=from_status, to_status=item.status, note=note)
    )


def _inventory_number_taken(inventory_number):
    return Invalid(
        _("Inventory number %(number)s is already registered.", number=inventory_number),
        code="inventory_number_taken",
        field="inventory_number",
    )


def create_equipment(
    actor: Actor | None,
    room: Room,
    *,
    kind: str,
    inventory_number: str,
    workstation: Workstation | None = None,
    notes: str = "",
    status: str = "in_service",
) -> EquipmentItem:
    """Put an item on a room's inventory; its inventory number is unique across the city."""
    require_clinic_admin(actor, room.clinic_id)
    kind = (kind or "").strip().lower()
    inventory_number = (inventory_number or "").strip()
    notes = (notes or "").strip()
    if not kind or len(kind) > 40:
        raise Invalid(_("Enter the kind of equipment (up to 40 characters)."), code="invalid_kind", field="kind")
    if not inventory_number or len(inventory_number) > 60:
        raise Invalid(
            _("Enter the inventory number (up to 60 characters)."),
            code="invalid_inventory_number",
            field="inventory_number",
        )
    check_status(status, EQUIPMENT_STATUSES)
    check_workstation_of_room(room, workstation)
    if db.session.scalar(
        select(func.count()).select_from(EquipmentItem).where(EquipmentItem.inventory_number == inventory_number)
    ):
        raise _inventory_number_taken(inventory_number)
    item = EquipmentItem(
        room=room, workstation=workstation, kind=kind, inventory_number=inventory_number, status=status, notes=notes
    )
    _history_entry(item, actor, None, "")
    try:
        # A concurrent insert of the same number passes the check above; the unique index catches it.
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        raise _inventory_number_taken(inventory_number) from None
    audit.record(
        "equipment_created",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=item,
        details={"inventory_number": inventory_number, "kind": kind, "room_id": room.id},
    )
    return item


def update_equipment(
    actor: Actor | None, item: EquipmentItem, *, status: str | None = None, notes: str | None = None, note: str = ""
) -> EquipmentItem:
    """Change an item's status and/or notes; every change leaves a history line with `note`.

    A note alone (no status change) is a repair note and is kept too.
    """
    require_clinic_admin(actor, item.room.clinic_id)
    note = (note or "").strip()
    if len(note) > 2000:
        raise Invalid(_("The note is too long (up to 2000 characters)."), code="invalid_note", field="note")
    previous = item.status
    if status is not None:
        check_status(status, EQUIPMENT_STATUSES)
        item.status = status
    notes_changed = notes is not None and notes.strip() != item.notes
    if notes_changed:
        item.notes = notes.strip()
    if item.status == previous and not notes_changed and not note:
        return item
    _history_entry(item, actor, previous, note)
    db.session.flush()
    audit.record(
        "equipment_updated",
        actor=actor,
        clinic_id=item.room.clinic_id,
        obj=item,
        details={
            "inventory_number": item.inventory_number,
            "from": previous,
            "to": item.status,
            "note": note,
            "notes_changed": notes_changed,
        },
    )
    return item


def equipment_of_clinic(
    clinic_id: int, *, room_id: int | None = None, kind: str | None = None, status: str | None = None
) -> Sequence[EquipmentItem]:
    """The inventory of a clinic, optionally narrowed by room, kind and status."""
    query = (
        select(EquipmentItem)
        .join(Room, EquipmentItem.room_id == Room.id)
        .where(Room.clinic_id == clinic_id)
        .order_by(Room.name, EquipmentItem.kind, EquipmentItem.inventory_number)
    )
    if room_id:
        query = query.where(EquipmentItem.room_id == room_id)
    if kind:
        query = query.where(EquipmentItem.kind == kind)
    if status:
        query = query.where(EquipmentItem.status == status)
    return db.session.scalars(query).all()


def equipment_kinds(clinic_id: int) -> Sequence[str]:
    return db.session.scalars(
        select(EquipmentItem.kind)
        .join(Room, EquipmentItem.room_id == Room.id)
        .where(Room.clinic_id == clinic_id)
        .distinct()
        .order_by(EquipmentItem.kind)
    ).all()
