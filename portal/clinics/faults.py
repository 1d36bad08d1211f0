"""Problem reports: a doctor reports a broken workstation or device, the clinic's admins work the report.

Like every rule module, each function takes the acting user (`actor`; None means the command line),
checks the permission again, raises portal.core.errors on a broken rule and only flushes.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.clinics.inventory import check_status, check_workstation_of_room
from portal.clinics.labels import kind_label, status_label
from portal.clinics.models import PROBLEM_STATUSES, EquipmentItem, ProblemReport, Room, Workstation
from portal.clinics.permissions import require_clinic_admin
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.notifications import in_language_of, notify, notify_clinic_admins
from portal.core.permissions import Actor, can_see_clinic
from portal.extensions import db

# How a report is worked: forward only; a wrongly resolved fault gets a new report.
PROBLEM_TRANSITIONS = {"open": ("in_progress", "resolved"), "in_progress": ("resolved",), "resolved": ()}


def report_problem(
    actor: Actor,
    room: Room,
    *,
    description: str,
    now: datetime,
    workstation: Workstation | None = None,
    equipment: EquipmentItem | None = None,
) -> ProblemReport:
    """Any signed-in user of the room's clinic reports a fault on a workstation or an item.

    The clinic's admins are told at once, so a broken computer is not found
    by the next doctor who booked it.
    """
    if not can_see_clinic(actor, room.clinic_id):
        raise NotAllowed(_("You can only report problems in rooms of your own clinic."))
    description = (description or "").strip()
    if workstation is None and equipment is None:
        raise Invalid(
            _("Choose the workstation or the equipment that has the problem."), code="missing_target", field="target"
        )
    check_workstation_of_room(room, workstation)
    if equipment is not None and equipment.room_id != room.id:
        raise Invalid(_("The equipment belongs to another room."), code="invalid_equipment", field="equipment_id")
    if not description or len(description) > 2000:
        raise Invalid(
            _("Describe the problem (up to 2000 characters)."), code="invalid_description", field="description"
        )
    report = ProblemReport(
        room=room,
        workstation=workstation,
        equipment=equipment,
        reporter_id=actor.id,
        description=description,
        created_at=now,
        updated_at=now,
    )
    db.session.add(report)
    db.session.flush()
    audit.record(
        "problem_reported",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=report,
        details={
            "room_id": room.id,
            "workstation_id": getattr(workstation, "id", None),
            "equipment_id": getattr(equipment, "id", None),
        },
    )
    notify_clinic_admins(
        room.clinic_id,
        "problem_reported",
        lambda: (_("Problem reported: %(target)s", target=problem_target_label(report)), f"{room.name}: {description}"),
        link=f"/admin/clinics/{room.clinic_id}/problem-reports",
        except_user_id=actor.id,
    )
    return report


def problem_target_label(report: ProblemReport) -> str:
    parts = []
    if report.workstation is not None:
        parts.append(report.workstation.label)
    if report.equipment is not None:
        parts.append(f"{kind_label(report.equipment.kind)} {report.equipment.inventory_number}")
    return " / ".join(parts) or "—"


def set_problem_status(
    actor: Actor | None, report: ProblemReport, status: str, *, now: datetime, resolution: str = ""
) -> ProblemReport:
    """Work a report `open → in_progress → resolved`; the reporter is told when it is resolved."""
    require_clinic_admin(actor, report.room.clinic_id)
    check_status(status, PROBLEM_STATUSES)
    resolution = (resolution or "").strip()
    if len(resolution) > 2000:
        raise Invalid(
            _("The resolution is too long (up to 2000 characters)."), code="invalid_resolution", field="resolution"
        )
    if status not in PROBLEM_TRANSITIONS[report.status]:
        raise Conflict(
            _(
                "A report that is %(current)s cannot become %(wanted)s.",
                current=status_label(report.status),
                wanted=status_label(status),
            ),
            code="invalid_transition",
            field="status",
        )
    previous = report.status
    report.status = status
    report.updated_at = now
    if resolution:
        report.resolution = resolution
    if status == "resolved":
        report.resolved_at = now
        report.resolved_by_id = actor.id if actor is not None else None
        with in_language_of(report.reporter):
            notify(
                report.reporter,
                "problem_resolved",
                _("Your problem report is resolved: %(target)s", target=problem_target_label(report)),
                report.resolution or _("The administrator marked it as resolved."),
            )
    db.session.flush()
    audit.record(
        "problem_report_status_changed",
        actor=actor,
        clinic_id=report.room.clinic_id,
        obj=report,
        details={"from": previous, "to": status},
    )
    return report


def problem_reports_of_clinic(
    clinic_id: int, *, statuses: Iterable[str] | None = None, room_id: int | None = None
) -> Sequence[ProblemReport]:
    query = (
        select(ProblemReport)
        .join(Room, ProblemReport.room_id == Room.id)
        .where(Room.clinic_id == clinic_id)
        .order_by(ProblemReport.created_at, ProblemReport.id)
    )
    if statuses:
        query = query.where(ProblemReport.status.in_(statuses))
    if room_id:
        query = query.where(ProblemReport.room_id == room_id)
    return db.session.scalars(query).all()


def problem_reports_of_reporter(
    user: Actor, *, statuses: Iterable[str] | None = None, room_id: int | None = None
) -> Sequence[ProblemReport]:
    query = (
        select(ProblemReport)
        .where(ProblemReport.reporter_id == user.id)
        .order_by(ProblemReport.created_at, ProblemReport.id)
    )
    if statuses:
        query = query.where(ProblemReport.status.in_(statuses))
    if room_id:
        query = query.where(ProblemReport.room_id == room_id)
    return db.session.scalars(query).all()
