"""Problem reports: any member of a clinic reports a fault; the clinic's admins work the queue."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.equipment import workstation_by_id
from portal.api.helpers import field, int_arg, items, json_body
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
from portal.clinics import services
from portal.clinics.models import PROBLEM_STATUSES, Clinic, EquipmentItem, ProblemReport
from portal.clinics.permissions import can_report_problem, can_see_problem_report, get_administered_or_404, is_admin
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotFound
from portal.core.time import iso
from portal.extensions import db


def serialise_report(report):
    tz = report.room.timezone
    return {"id": report.id, "room_id": report.room_id, "workstation_id": report.workstation_id,
            "equipment_id": report.equipment_id, "target": services.problem_target_label(report),
            "description": report.description, "status": report.status, "resolution": report.resolution,
            "reporter": ({"id": report.reporter.id, "name": report.reporter.full_name}
                         if report.reporter else None),
            "created_at": iso(report.created_at, tz), "updated_at": iso(report.updated_at, tz),
            "resolved_at": iso(report.resolved_at, tz)}


def _equipment_by_id(equipment_id):
    if equipment_id is None:
        return None
    item = db.session.get(EquipmentItem, equipment_id)
    if item is None:
        raise Invalid(_("There is no such equipment item."), code="invalid_equipment", field="equipment_id")
    return item


def _visible_report(report_id):
    report = db.session.get(ProblemReport, report_id)
    if report is None or not can_see_problem_report(current_user, report):
        raise NotFound(_("Not found."))
    return report


@bp.post("/problem-reports")
def create_problem_report():
    data = json_body()
    workstation = workstation_by_id(field(data, "workstation_id", int, required=False))
    equipment = _equipment_by_id(field(data, "equipment_id", int, required=False))
    target = workstation or equipment
    if target is None:
        raise Invalid(_("Choose the workstation or the equipment that has the problem."), code="missing_target",
                      field="workstation_id")
    # Another clinic's workstation or item does not exist for the caller.
    if not can_report_problem(current_user, target.room):
        raise NotFound(_("Not found."))
    report = services.report_problem(current_user, target.room, description=field(data, "description", str),
                                     now=utcnow(), workstation=workstation, equipment=equipment)
    return jsonify(serialise_report(report)), 201


@bp.get("/problem-reports")
def list_problem_reports():
    """Admins: the reports of a clinic (by default their own); everybody else: the reports they filed."""
    statuses = request.args.getlist("status") or None
    if statuses and any(status not in PROBLEM_STATUSES for status in statuses):
        raise Invalid(_("Unknown status."), code="invalid_parameter", field="status")
    clinic_id, room_id = int_arg("clinic_id"), int_arg("room_id")
    if clinic_id is None and not is_admin(current_user):
        return jsonify(items(services.problem_reports_of_reporter(current_user, statuses=statuses, room_id=room_id),
                             serialise_report))
    clinic_id = clinic_id or current_user.clinic_id
    if clinic_id is None:
        raise Invalid(_("The parameter %(name)s is required.", name="clinic_id"), code="missing_parameter",
                      field="clinic_id")
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    return jsonify(items(services.problem_reports_of_clinic(clinic.id, statuses=statuses, room_id=room_id),
                         serialise_report))


@bp.get("/problem-reports/<int:report_id>")
def get_problem_report(report_id):
    return jsonify(serialise_report(_visible_report(report_id)))


@bp.patch("/problem-reports/<int:report_id>")
def update_problem_report(report_id):
    report = _visible_report(report_id)
    data = json_body()
    services.set_problem_status(current_user, report, field(data, "status", str), now=utcnow(),
                                resolution=field(data, "resolution", str, required=False, default=""))
    return jsonify(serialise_report(report))


SCHEMAS = {
    "ProblemReport": {"type": "object", "required": ["id", "room_id", "description", "status"], "properties": {
        "id": {"type": "integer"}, "room_id": {"type": "integer"}, "workstation_id": {"type": ["integer", "null"]},
        "equipment_id": {"type": ["integer", "null"]}, "target": {"type": "string"},
        "description": {"type": "string"}, "status": {"type": "string", "enum": list(PROBLEM_STATUSES)},
        "resolution": {"type": "string"}, "reporter": {"type": ["object", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"}}},
}

_report = [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

PATHS = {
    "/problem-reports": {
        "post": {"summary": "Report a fault on a workstation or an equipment item of one's clinic",
                 "operationId": "createProblemReport",
                 "requestBody": body_schema({"type": "object", "required": ["description"], "properties": {
                     "workstation_id": {"type": "integer"}, "equipment_id": {"type": "integer"},
                     "description": {"type": "string", "maxLength": 2000}}}),
                 "responses": {"201": json_response("The report", "ProblemReport"), **errors(400, 401, 403, 404)}},
        "get": {"summary": "Admins: a clinic's reports (default: own clinic); others: the reports they filed",
                "operationId": "listProblemReports", "parameters": [
                    {"name": "clinic_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "room_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(PROBLEM_STATUSES)},
                     "description": "repeatable"}],
                "responses": {"200": json_response("Reports, oldest first", list_of("ProblemReport")),
                              **errors(400, 401, 403, 404)}}},
    "/problem-reports/{report_id}": {
        "get": {"summary": "One report (its reporter or the clinic's admins)", "operationId": "getProblemReport",
                "parameters": _report,
                "responses": {"200": json_response("The report", "ProblemReport"), **errors(401, 404)}},
        "patch": {"summary": "Work a report open → in_progress → resolved (admin); the reporter is told when "
                             "it is resolved", "operationId": "updateProblemReport", "parameters": _report,
                  "requestBody": body_schema({"type": "object", "required": ["status"], "properties": {
                      "status": {"type": "string", "enum": list(PROBLEM_STATUSES)},
                      "resolution": {"type": "string"}}}),
                  "responses": {"200": json_response("The report", "ProblemReport"),
                                **errors(400, 401, 403, 404, 409)}}},
}
