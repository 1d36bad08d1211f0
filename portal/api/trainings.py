"""Training sessions, enrolment and attendance: thin JSON views over portal.training.services."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import field, int_arg, items, json_body, time_arg, time_field
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
from portal.clinics.models import Room
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotFound
from portal.core.permissions import get_in_clinic_or_404
from portal.core.time import iso
from portal.training import attendance, courses, enrolling, queries, scheduling
from portal.training.models import ENROLMENT_STATUSES, SESSION_STATUSES, Course, TrainingSession
from portal.training.permissions import session_clinic_id


def serialise_course(course):
    return {"id": course.id, "title": course.title, "description": course.description,
            "academic_hours": float(course.academic_hours), "nmo_id": course.nmo_id, "nmo": course.is_nmo,
            "trainer": {"id": course.trainer.id, "name": course.trainer.full_name} if course.trainer else None}


def serialise_session(training):
    timezone = training.room.timezone
    return {"id": training.id, "room_id": training.room_id, "course": serialise_course(training.course),
            "start": iso(training.start_at, timezone), "end": iso(training.end_at, timezone),
            "capacity": training.capacity, "seats_taken": training.seats_taken, "seats_left": training.seats_left,
            "whole_room": training.whole_room, "status": training.status}


def serialise_enrolment(enrolment):
    return {"session_id": enrolment.session_id, "user_id": enrolment.user_id, "status": enrolment.status,
            "position": enrolling.waitlist_position(enrolment)}


def _actor():
    return current_user._get_current_object()


def _session_or_404(session_id):
    return get_in_clinic_or_404(TrainingSession, session_id, current_user, session_clinic_id)


@bp.get("/trainings")
def list_trainings():
    """Sessions of a room (or of the caller's clinic) starting in [from, to): scheduled and completed ones."""
    room_id = int_arg("room_id", minimum=1)
    room = get_in_clinic_or_404(Room, room_id, current_user, lambda r: r.clinic_id) if room_id else None
    sessions = queries.list_sessions(current_user, room=room, start=time_arg("from"), end=time_arg("to"),
                                      now=utcnow())
    return jsonify(items(sessions, serialise_session))


@bp.post("/trainings")
def create_training():
    data = json_body()
    room = get_in_clinic_or_404(Room, field(data, "room_id", int), current_user, lambda r: r.clinic_id)
    now = utcnow()
    course = _course_for(data, room, now)
    whole_room = field(data, "whole_room", bool, required=False, default=False)
    training = scheduling.schedule_session(
        _actor(), course=course, room=room, start=time_field(data, "start"), end=time_field(data, "end"),
        capacity=field(data, "capacity", int), whole_room=whole_room,
        cancel_conflicting_bookings=field(data, "cancel_conflicting_bookings", bool, required=False, default=False),
        now=now)
    return jsonify(serialise_session(training)), 201


def _course_for(data, room, now):
    """An existing course (`course_id`) or a new one described inline (`course`), not both."""
    if ("course_id" in data) == ("course" in data):
        raise Invalid(_("Choose a course."), code="invalid_course", field="course_id")
    if "course_id" in data:
        return get_in_clinic_or_404(Course, field(data, "course_id", int), current_user, lambda c: c.clinic_id)
    spec = field(data, "course", dict)
    hours = spec.get("academic_hours")
    if isinstance(hours, bool) or not isinstance(hours, (int, float, str)):
        raise Invalid(_("The field %(name)s has the wrong type.", name="academic_hours"), code="invalid_field",
                      field="academic_hours")
    return courses.create_course(
        _actor(), room.clinic_id, title=field(spec, "title", str), academic_hours=hours,
        nmo_id=field(spec, "nmo_id", str, required=False), description=field(spec, "description", str,
                                                                             required=False, default=""), now=now)


@bp.get("/trainings/<int:session_id>")
def get_training(session_id):
    return jsonify(serialise_session(_session_or_404(session_id)))


@bp.delete("/trainings/<int:session_id>")
def cancel_training(session_id):
    training = _session_or_404(session_id)
    data = request.get_json(silent=True) or {}
    reason = field(data, "reason", str, required=False, default="") if isinstance(data, dict) else ""
    scheduling.cancel_session(_actor(), training, reason=reason, now=utcnow())
    return jsonify(serialise_session(training))


@bp.post("/trainings/<int:session_id>/enrolment")
def enrol(session_id):
    """201 enrolled, 202 waitlisted; asking again changes nothing and answers 200."""
    training = _session_or_404(session_id)
    enrolment, changed = enrolling.enrol(_actor(), training, now=utcnow())
    body = serialise_enrolment(enrolment)
    if not changed:
        return jsonify(body), 200
    return jsonify(body), 201 if enrolment.status == "enrolled" else 202


@bp.get("/trainings/<int:session_id>/enrolment")
def get_enrolment(session_id):
    training = _session_or_404(session_id)
    enrolment = enrolling.enrolment_of(current_user.id, training)
    if enrolment is None or enrolment.status == "cancelled":
        raise NotFound(_("You are not enrolled in this session."), code="not_enrolled")
    return jsonify(serialise_enrolment(enrolment))


@bp.delete("/trainings/<int:session_id>/enrolment")
def leave(session_id):
    training = _session_or_404(session_id)
    enrolment = enrolling.leave(_actor(), training, now=utcnow())
    return jsonify(serialise_enrolment(enrolment))


@bp.post("/trainings/<int:session_id>/attendance")
def mark_attendance(session_id):
    training = _session_or_404(session_id)
    data = json_body()
    enrolment = attendance.mark_attendance(
        _actor(), training, field(data, "user_id", int), field(data, "attended", bool), now=utcnow())
    body = serialise_enrolment(enrolment)
    if enrolment.certificate is not None and enrolment.certificate.is_valid:
        body["certificate_number"] = enrolment.certificate.number
    return jsonify(body)


SCHEMAS = {
    "Course": {"type": "object", "required": ["id", "title", "academic_hours", "nmo_id"], "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
        "academic_hours": {"type": "number", "description": "45-minute academic hours"},
        "nmo_id": {"type": ["string", "null"], "description": "НМО accreditation id; null: gives no НМО credit"},
        "nmo": {"type": "boolean"}, "trainer": {"type": ["object", "null"]}}},
    "TrainingSession": {
        "type": "object",
        "required": ["id", "room_id", "course", "start", "end", "capacity", "seats_left", "whole_room", "status"],
        "properties": {
            "id": {"type": "integer"}, "room_id": {"type": "integer"}, "course": {"$ref": "#/components/schemas/Course"},
            "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
            "capacity": {"type": "integer"}, "seats_taken": {"type": "integer"}, "seats_left": {"type": "integer"},
            "whole_room": {"type": "boolean"}, "status": {"type": "string", "enum": list(SESSION_STATUSES)}}},
    "Enrolment": {"type": "object", "required": ["status", "position"], "properties": {
        "session_id": {"type": "integer"}, "user_id": {"type": "integer"},
        "status": {"type": "string", "enum": list(ENROLMENT_STATUSES)},
        "position": {"type": ["integer", "null"], "minimum": 1,
                     "description": "1-based waitlist place (1 is promoted next); null unless waitlisted"},
        "certificate_number": {"type": "string"}}},
}

_session_id = [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

PATHS = {
    "/trainings": {
        "get": {
            "summary": "Sessions (not cancelled ones) with their free seats", "operationId": "listTrainings",
            "description": "Without from/to: from now to the room's booking horizon. Without room_id: "
                           "every room of the caller's clinic.",
            "parameters": [
                {"name": "room_id", "in": "query", "schema": {"type": "integer"}},
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}}],
            "responses": {"200": json_response("Sessions", list_of("TrainingSession")), **errors(400, 401, 404)}},
        "post": {
            "summary": "Schedule a session (trainer or admin of the room's clinic)", "operationId": "createTraining",
            "description": "A whole-room session over active bookings is refused with 409 bookings_conflict "
                           "(the list in error.conflicts) unless an admin sends cancel_conflicting_bookings: "
                           "true; then those bookings are cancelled and their doctors notified. Overlapping "
                           "another session of the room: 409 session_overlap.",
            "requestBody": body_schema({
                "type": "object", "required": ["room_id", "start", "end", "capacity"], "properties": {
                    "room_id": {"type": "integer"}, "course_id": {"type": "integer"},
                    "course": {"type": "object", "required": ["title", "academic_hours"], "properties": {
                        "title": {"type": "string"}, "academic_hours": {"type": "number"},
                        "nmo_id": {"type": "string"}, "description": {"type": "string"}}},
                    "start": {"type": "string", "format": "date-time"},
                    "end": {"type": "string", "format": "date-time"},
                    "capacity": {"type": "integer", "minimum": 1}, "whole_room": {"type": "boolean"},
                    "cancel_conflicting_bookings": {"type": "boolean"}}}),
            "responses": {"201": json_response("The new session", "TrainingSession"),
                          **errors(400, 401, 403, 404, 409)}},
    },
    "/trainings/{session_id}": {
        "get": {"summary": "One session", "operationId": "getTraining", "parameters": _session_id,
                "responses": {"200": json_response("The session", "TrainingSession"), **errors(401, 404)}},
        "delete": {"summary": "Cancel a session that has not started; participants are notified",
                   "operationId": "cancelTraining", "parameters": _session_id,
                   "responses": {"200": json_response("The cancelled session", "TrainingSession"),
                                 **errors(401, 403, 404, 409)}},
    },
    "/trainings/{session_id}/enrolment": {
        "post": {"summary": "Enrol; beyond capacity join the waitlist (FIFO)", "operationId": "enrol",
                 "parameters": _session_id,
                 "responses": {"201": json_response("Enrolled", "Enrolment"),
                               "202": json_response("Waitlisted", "Enrolment"),
                               "200": json_response("Already enrolled or waitlisted", "Enrolment"),
                               **errors(401, 403, 404, 409)}},
        "get": {"summary": "The caller's enrolment", "operationId": "getEnrolment", "parameters": _session_id,
                "responses": {"200": json_response("The enrolment", "Enrolment"), **errors(401, 404)}},
        "delete": {"summary": "Leave; the first waitlisted doctor gets the seat", "operationId": "leave",
                   "parameters": _session_id,
                   "responses": {"200": json_response("The cancelled enrolment", "Enrolment"),
                                 **errors(401, 404, 409)}},
    },
    "/trainings/{session_id}/attendance": {
        "post": {"summary": "Mark a participant attended or absent (after the start)",
                 "operationId": "markAttendance", "parameters": _session_id,
                 "requestBody": body_schema({"type": "object", "required": ["user_id", "attended"], "properties": {
                     "user_id": {"type": "integer"}, "attended": {"type": "boolean"}}}),
                 "responses": {"200": json_response("The participant's enrolment", "Enrolment"),
                               **errors(400, 401, 403, 404, 409)}},
    },
}
