"""Training sessions, enrolment and attendance: thin JSON views over portal.training."""

from operator import attrgetter
from typing import Literal

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.bookings import Person
from portal.api.courses import Course, serialise_course
from portal.api.helpers import items
from portal.api.schema import (
    Answer,
    Body,
    Count,
    Id,
    Query,
    QueryId,
    QueryTimestamp,
    Time,
    Timestamp,
    answers,
    api,
    items_of,
    omittable,
)
from portal.auth.models import User
from portal.clinics.models import Room
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotFound
from portal.core.permissions import get_in_clinic_or_404
from portal.core.time import iso
from portal.training import attendance, courses, enrolling, models, queries, scheduling
from portal.training.models import ENROLMENT_STATUSES, SESSION_STATUSES
from portal.training.permissions import session_clinic_id


class TrainingSession(Answer):
    id: int
    room_id: int
    course: Course
    start: Time
    end: Time
    capacity: int
    seats_taken: int
    seats_left: int
    whole_room: bool
    status: Literal[SESSION_STATUSES]
    academic_hours: float = Field(
        description="the academic hours this session gives: its length in 45-minute "
        "hours, rounded down to a half, at most the course's"
    )
    trainer: Person | None


class ChangedTrainingSession(TrainingSession):
    moved_to_waitlist: list[int] = Field(description="users returned to the waitlist")
    promoted: list[int] = Field(description="users who got a seat")
    cancelled_bookings: list[int]


class Enrolment(Answer):
    session_id: int
    user_id: int
    status: Literal[ENROLMENT_STATUSES]
    position: int | None = Field(
        ge=1, description="1-based waitlist place (1 is promoted next); null unless waitlisted"
    )
    certificate_number: str = omittable(description="after attendance, when a certificate was issued")


class NewCourse(Body):
    title: str
    academic_hours: float = Field(gt=0, description="45-minute academic hours")
    nmo_id: str = omittable()
    description: str = ""


class NewTraining(Body):
    room_id: Id
    course_id: Id = omittable(description="an existing course of the clinic, or")
    course: NewCourse = omittable(description="a new course described here")
    start: Timestamp
    end: Timestamp
    capacity: Count
    whole_room: bool = False
    cancel_conflicting_bookings: bool = False


class TrainingChanges(Body):
    start: Timestamp = omittable()
    end: Timestamp = omittable()
    room_id: Id = omittable(description="another room of the session's clinic")
    capacity: Count = omittable()
    trainer_id: Id = omittable(description="another trainer of the clinic")
    move_to_waitlist: bool = Field(
        False,
        description="fewer seats than doctors enrolled: the doctors seated last go back to the head of the waitlist",
    )
    cancel_conflicting_bookings: bool = False


class TrainingFilter(Query):
    room_id: QueryId = omittable(description="default: every room of the caller's clinic")
    since: QueryTimestamp = omittable(alias="from", description="default: now")
    until: QueryTimestamp = omittable(alias="to", description="default: the room's booking horizon after `from`")


class Cancellation(Body):
    reason: str = ""


class Attendance(Body):
    user_id: Id
    attended: bool


def serialise_session(training):
    timezone = training.room.timezone
    return {
        "id": training.id,
        "room_id": training.room_id,
        "course": serialise_course(training.course),
        "start": iso(training.start_at, timezone),
        "end": iso(training.end_at, timezone),
        "capacity": training.capacity,
        "seats_taken": training.seats_taken,
        "seats_left": training.seats_left,
        "whole_room": training.whole_room,
        "status": training.status,
        "academic_hours": float(training.academic_hours),
        "trainer": {"id": training.trainer.id, "name": training.trainer.full_name} if training.trainer else None,
    }


def serialise_enrolment(enrolment):
    return {
        "session_id": enrolment.session_id,
        "user_id": enrolment.user_id,
        "status": enrolment.status,
        "position": enrolling.waitlist_position(enrolment),
    }


def _actor():
    return current_user._get_current_object()


def _session_or_404(session_id):
    return get_in_clinic_or_404(models.TrainingSession, session_id, current_user, session_clinic_id)


@bp.get("/trainings")
@api.validate(resp=answers(404, HTTP_200=(items_of(TrainingSession), "Sessions")))
def list_trainings(query: TrainingFilter):
    """Sessions with their free seats: scheduled and completed ones

    Without from/to: from now to the room's booking horizon. Without room_id: every room of the caller's clinic.
    """
    room = get_in_clinic_or_404(Room, query.room_id, current_user, lambda r: r.clinic_id) if query.room_id else None
    sessions = queries.list_sessions(current_user, room=room, start=query.since, end=query.until, now=utcnow())
    return jsonify(items(sessions, serialise_session))


@bp.post("/trainings")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_201=(TrainingSession, "The new session")))
def create_training(json: NewTraining):
    """Schedule a session (trainer or admin of the room's clinic)

    A whole-room session over active bookings is refused with 409 bookings_conflict (the list in
    error.conflicts) unless an admin sends cancel_conflicting_bookings: true; then those bookings are
    cancelled and their doctors notified. Overlapping another session of the room: 409 session_overlap.
    """
    room = get_in_clinic_or_404(Room, json.room_id, current_user, lambda r: r.clinic_id)
    now = utcnow()
    training = scheduling.schedule_session(
        _actor(),
        course=_course_for(json, room, now),
        room=room,
        start=json.start,
        end=json.end,
        capacity=json.capacity,
        whole_room=json.whole_room,
        cancel_conflicting_bookings=json.cancel_conflicting_bookings,
        now=now,
    )
    return jsonify(serialise_session(training)), 201


def _course_for(request, room, now):
    """An existing course (`course_id`) or a new one described inline (`course`), not both."""
    if (request.course_id is None) == (request.course is None):
        raise Invalid(_("Choose a course."), code="invalid_course", field="course_id")
    if request.course_id is not None:
        return get_in_clinic_or_404(models.Course, request.course_id, current_user, lambda c: c.clinic_id)
    spec = request.course
    return courses.create_course(
        _actor(),
        room.clinic_id,
        title=spec.title,
        academic_hours=spec.academic_hours,
        nmo_id=spec.nmo_id,
        description=spec.description,
        now=now,
    )


@bp.get("/trainings/<int:session_id>")
@api.validate(resp=answers(404, HTTP_200=(TrainingSession, "The session")))
def get_training(session_id):
    """One session"""
    return jsonify(serialise_session(_session_or_404(session_id)))


@bp.patch("/trainings/<int:session_id>")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(ChangedTrainingSession, "The session")))
def update_training(session_id, json: TrainingChanges):
    """Change a session that has not started: time, room, seats, trainer (trainer or admin)

    Fields not sent keep their values. A new time or room is checked as when scheduling (409 outside_hours,
    room_closed, session_overlap; a whole-room session over bookings 409 bookings_conflict unless an admin
    sends cancel_conflicting_bookings). Seats below the doctors enrolled: 409 capacity_below_enrolled, unless
    move_to_waitlist is true: then the doctors seated last go back to the head of the waitlist. Everyone
    enrolled or waitlisted is told of a new time, room or trainer.
    """
    training = _session_or_404(session_id)
    same_clinic = attrgetter("clinic_id")
    change = scheduling.update_session(
        _actor(),
        training,
        start=json.start,
        end=json.end,
        room=get_in_clinic_or_404(Room, json.room_id, current_user, same_clinic) if json.room_id else None,
        capacity=json.capacity,
        trainer=get_in_clinic_or_404(User, json.trainer_id, current_user, same_clinic) if json.trainer_id else None,
        move_to_waitlist=json.move_to_waitlist,
        cancel_conflicting_bookings=json.cancel_conflicting_bookings,
        now=utcnow(),
    )
    return jsonify(
        {
            **serialise_session(change.session),
            "moved_to_waitlist": [e.user_id for e in change.moved_to_waitlist],
            "promoted": [e.user_id for e in change.promoted],
            "cancelled_bookings": [b.id for b in change.cancelled_bookings],
        }
    )


@bp.delete("/trainings/<int:session_id>")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(TrainingSession, "The cancelled session")))
def cancel_training(session_id, json: Cancellation):
    """Cancel a session that has not started; participants are notified"""
    training = _session_or_404(session_id)
    scheduling.cancel_session(_actor(), training, reason=json.reason, now=utcnow())
    return jsonify(serialise_session(training))


@bp.post("/trainings/<int:session_id>/enrolment")
@api.validate(
    resp=answers(
        403,
        404,
        409,
        HTTP_201=(Enrolment, "Enrolled"),
        HTTP_202=(Enrolment, "Waitlisted"),
        HTTP_200=(Enrolment, "Already enrolled or waitlisted"),
    )
)
def enrol(session_id):
    """Enrol; beyond capacity join the waitlist (FIFO)

    201 enrolled, 202 waitlisted; asking again changes nothing and answers 200.
    """
    training = _session_or_404(session_id)
    enrolment, changed = enrolling.enrol(_actor(), training, now=utcnow())
    body = serialise_enrolment(enrolment)
    if not changed:
        return jsonify(body), 200
    return jsonify(body), 201 if enrolment.status == "enrolled" else 202


@bp.get("/trainings/<int:session_id>/enrolment")
@api.validate(resp=answers(404, HTTP_200=(Enrolment, "The enrolment")))
def get_enrolment(session_id):
    """The caller's enrolment"""
    training = _session_or_404(session_id)
    enrolment = enrolling.enrolment_of(current_user.id, training)
    if enrolment is None or enrolment.status == "cancelled":
        raise NotFound(_("You are not enrolled in this session."), code="not_enrolled")
    return jsonify(serialise_enrolment(enrolment))


@bp.delete("/trainings/<int:session_id>/enrolment")
@api.validate(resp=answers(404, 409, HTTP_200=(Enrolment, "The cancelled enrolment")))
def leave(session_id):
    """Leave; the first waitlisted doctor gets the seat"""
    training = _session_or_404(session_id)
    enrolment = enrolling.leave(_actor(), training, now=utcnow())
    return jsonify(serialise_enrolment(enrolment))


@bp.post("/trainings/<int:session_id>/attendance")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(Enrolment, "The participant's enrolment")))
def mark_attendance(session_id, json: Attendance):
    """Mark a participant attended or absent (after the start)"""
    training = _session_or_404(session_id)
    enrolment = attendance.mark_attendance(_actor(), training, json.user_id, json.attended, now=utcnow())
    body = serialise_enrolment(enrolment)
    if enrolment.certificate is not None and enrolment.certificate.is_valid:
        body["certificate_number"] = enrolment.certificate.number
    return jsonify(body)
