"""Admin: the usage report of a clinic for a month."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import int_arg
from portal.api.openapi import errors, json_response
from portal.clinics.models import Clinic
from portal.clinics.permissions import get_administered_or_404
from portal.core.db import utcnow
from portal.core.errors import Invalid
from portal.reports.months import parse_month
from portal.reports.usage import usage_report


@bp.get("/reports/usage")
def get_usage_report():
    clinic_id = int_arg("clinic_id", current_user.clinic_id)
    if clinic_id is None:
        raise Invalid(_("The parameter %(name)s is required.", name="clinic_id"), code="missing_parameter",
                      field="clinic_id")
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    return jsonify(usage_report(clinic, parse_month(request.args.get("month"), clinic.timezone, utcnow())))


_ratio = {"type": ["number", "null"], "description": "0–1; null when there was no open time"}

SCHEMAS = {
    "UsageReport": {"type": "object", "required": ["clinic", "month", "rooms", "bookings", "trainings", "searches"],
                    "properties": {
                        "clinic": {"type": "object"}, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "occupancy": _ratio,
                        "rooms": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "integer"}, "name": {"type": "string"},
                            "open_minutes": {"type": "integer"}, "booked_minutes": {"type": "integer"},
                            "occupancy": _ratio, "workstations": {"type": "array", "items": {
                                "type": "object", "properties": {
                                    "id": {"type": "integer"}, "label": {"type": "string"},
                                    "booked_minutes": {"type": "integer"}, "occupancy": _ratio}}}}}},
                        "bookings": {"type": "object", "properties": {name: {"type": "integer"} for name in (
                            "total", "booked", "checked_in", "completed", "cancelled", "no_shows", "refused")}},
                        "trainings": {"type": "object", "properties": {
                            "sessions": {"type": "integer"}, "capacity": {"type": "integer"},
                            "seats_taken": {"type": "integer"}, "fill_rate": _ratio,
                            "waitlisted": {"type": "integer"}, "attended": {"type": "integer"},
                            "items": {"type": "array", "items": {"type": "object"}}}},
                        "searches": {"type": "object", "description": "per source name",
                                     "additionalProperties": {"type": "object", "properties": {
                                         "searches": {"type": "integer"}, "cached": {"type": "integer"},
                                         "errors": {"type": "integer"},
                                         "median_latency_ms": {"type": ["integer", "null"],
                                                               "description": "upstream answers only"}}}},
                        "heatmap": {"type": "array", "description": "local weekday (Monday 0) × hour", "items": {
                            "type": "object", "properties": {
                                "weekday": {"type": "integer"}, "hour": {"type": "integer"},
                                "open_minutes": {"type": "integer"}, "booked_minutes": {"type": "integer"},
                                "occupancy": _ratio}}},
                        "trend": {"type": "array", "description": "this month and the five before, oldest first",
                                  "items": {"type": "object", "properties": {
                                      "month": {"type": "string"}, "occupancy": _ratio,
                                      "bookings": {"type": "integer"}, "no_shows": {"type": "integer"},
                                      "searches": {"type": "integer"}}}}}},
}

PATHS = {
    "/reports/usage": {"get": {
        "summary": "Usage of a clinic in a month (admin): occupancy per room and workstation, no-shows, refused "
                   "bookings, trainings, searches per source", "operationId": "getUsageReport",
        "parameters": [{"name": "clinic_id", "in": "query", "schema": {"type": "integer"},
                        "description": "default: the caller's clinic"},
                       {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "description": "YYYY-MM; default: the current month"}],
        "responses": {"200": json_response("The report", "UsageReport"), **errors(400, 401, 403, 404)}}},
}
