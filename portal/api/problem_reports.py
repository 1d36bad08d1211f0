"""Problem reports: any member of a clinic reports a fault; the clinic's admins work the queue."""

from typing import Annotated, Literal

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.bookings import Person
from portal.api.equipment import workstation_by_id
from portal.api.helpers import items
from portal.api.schema import Answer, Body, Id, Query, QueryId, Time, answers, api, documented, items_of, omittable
from portal.clinics import faults, models
from portal.clinics.models import PROBLEM_STATUSES, Clinic, EquipmentItem
from portal.clinics.permissions import can_report_problem, can_see_problem_report, get_administered_or_404, is_admin
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotFound
from portal.core.time import iso
from portal.extensions import db

ProblemStatus = Annotated[str, documented(enum=list(PROBLEM_STATUSES))]


class ProblemReport(Answer):
    id: int
    room_id: int
    workstation_id: int | None
    equipment_id: int | None
    target: str
    description: str
    status: Literal[PROBLEM_STATUSES]
    resolution: str
    reporter: Person | None
    created_at: Time
    updated_at: Time
    resolved_at: Time | None


class NewProblemReport(Body):
    workstation_id: Id = omittable(description="the workstation at fault, or")
    equipment_id: Id = omittable(description="the equipment item at fault")
    description: Annotated[str, documented(maxLength=2000)]


class ProblemFilter(Query):
    clinic_id: QueryId = omittable(description="admins: default their own clinic")
    room_id: QueryId = omittable()
    status: list[Literal[PROBLEM_STATUSES]] = omittable(description="repeatable")


class ProblemChange(Body):
    status: ProblemStatus
    resolution: str = ""


def serialise_report(report):
    tz = report.room.timezone
    return {
        "id": report.id,
        "room_id": report.room_id,
        "workstation_id": report.workstation_id,
        "equipment_id": report.equipment_id,
        "target": faults.problem_target_label(report),
        "description": report.description,
        "status": report.status,
        "resolution": report.resolution,
        "reporter": ({"id": report.reporter.id, "name": report.reporter.full_name} if report.reporter else None),
        "created_at": iso(report.created_at, tz),
        "updated_at": iso(report.updated_at, tz),
        "resolved_at": iso(report.resolved_at, tz),
    }


def _equipment_by_id(equipment_id):
    if equipment_id is None:
        return None
    item = db.session.get(EquipmentItem, equipment_id)
    if item is None:
        raise Invalid(_("There is no such equipment item."), code="invalid_equipment", field="equipment_id")
    return item


def _visible_report(report_id):
    report = db.session.get(models.ProblemReport, report_id)
    if report is None or not can_see_problem_report(current_user, report):
        raise NotFound(_("Not found."))
    return report


@bp.post("/problem-reports")
@api.validate(resp=answers(403, 404, 413, HTTP_201=(ProblemReport, "The report")))
def create_problem_report(json: NewProblemReport):
    """Report a fault on a workstation or an equipment item of one's clinic"""
    workstation = workstation_by_id(json.workstation_id)
    equipment = _equipment_by_id(json.equipment_id)
    target = workstation or equipment
    if target is None:
        raise Invalid(
            _("Choose the workstation or the equipment that has the problem."),
            code="missing_target",
            field="workstation_id",
        )
    # Another clinic's workstation or item does not exist for the caller.
    if not can_report_problem(current_user, target.room):
        raise NotFound(_("Not found."))
    report = faults.report_problem(
        current_user,
        target.room,
        description=json.description,
        now=utcnow(),
        workstation=workstation,
        equipment=equipment,
    )
    return jsonify(serialise_report(report)), 201


@bp.get("/problem-reports")
@api.validate(resp=answers(403, 404, HTTP_200=(items_of(ProblemReport), "Reports, oldest first")))
def list_problem_reports(query: ProblemFilter):
    """Admins: a clinic's reports (default: own clinic); others: the reports they filed"""
    statuses = query.status or None
    if query.clinic_id is None and not is_admin(current_user):
        return jsonify(
            items(
                faults.problem_reports_of_reporter(current_user, statuses=statuses, room_id=query.room_id),
                serialise_report,
            )
        )
    clinic_id = query.clinic_id or current_user.clinic_id
    if clinic_id is None:
        raise Invalid(_("%(name)s is required.", name="clinic_id"), code="missing_parameter", field="clinic_id")
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    return jsonify(
        items(faults.problem_reports_of_clinic(clinic.id, statuses=statuses, room_id=query.room_id), serialise_report)
    )


@bp.get("/problem-reports/<int:report_id>")
@api.validate(resp=answers(404, HTTP_200=(ProblemReport, "The report")))
def get_problem_report(report_id):
    """One report (its reporter or the clinic's admins)"""
    return jsonify(serialise_report(_visible_report(report_id)))


@bp.patch("/problem-reports/<int:report_id>")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(ProblemReport, "The report")))
def update_problem_report(report_id, json: ProblemChange):
    """Work a report open → in_progress → resolved (admin); the reporter is told when it is resolved"""
    report = _visible_report(report_id)
    faults.set_problem_status(current_user, report, json.status, now=utcnow(), resolution=json.resolution)
    return jsonify(serialise_report(report))
