"""Demo equipment and one open problem report per clinic (idempotent)."""

from sqlalchemy import func, select

from portal.clinics import faults, inventory
from portal.clinics.models import EquipmentItem, ProblemReport
from portal.core.db import utcnow
from portal.extensions import db

ROOM_EQUIPMENT = [("projector", "PRJ"), ("screen", "SCR"), ("printer", "PRN")]


def seed_demo(context):
    for number, room in enumerate(context["rooms"], start=1):
        prefix = f"ИН-{number:02d}"
        for kind, code in ROOM_EQUIPMENT:
            _item(room, kind, f"{prefix}-{code}")
        for workstation in room.workstations:
            _item(room, "webcam", f"{prefix}-CAM-{workstation.label}", workstation=workstation)
    db.session.flush()
    doctor = context["users"].get("doctor@dgp94.demo.portal")
    room = context["rooms"][0]
    already = db.session.scalar(select(func.count()).select_from(ProblemReport).where(ProblemReport.room_id == room.id))
    if doctor is not None and not already and room.workstations:
        faults.report_problem(
            doctor,
            room,
            description="Не работает мышь, курсор не двигается.",
            now=utcnow(),
            workstation=room.workstations[0],
        )


def _item(room, kind, inventory_number, workstation=None):
    exists = db.session.scalar(
        select(func.count()).select_from(EquipmentItem).where(EquipmentItem.inventory_number == inventory_number)
    )
    if not exists:
        inventory.create_equipment(None, room, kind=kind, inventory_number=inventory_number, workstation=workstation)
