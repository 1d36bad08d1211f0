"""Courses: read, edit (title, description, academic hours, НМО) and cancel — thin JSON views over
portal.training.courses."""

from flask import jsonify
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.bookings import Person
from portal.api.schema import Answer, Body, Time, answers, api, omittable
from portal.core.db import utcnow
from portal.core.permissions import get_in_clinic_or_404
from portal.core.time import iso
from portal.training import courses
from portal.training.models import Course as CourseRow

HOURS = "45-minute academic hours, from 0.5 to 99.5 in steps of 0.5"


class Course(Answer):
    id: int
    title: str
    description: str
    academic_hours: float = Field(description="45-minute academic hours")
    nmo_id: str | None = Field(description="CME (НМО) accreditation id; null: gives no CME credit")
    nmo: bool
    trainer: Person | None
    cancelled_at: Time | None = Field(description="set when the course was cancelled: it gets no new sessions")


class CancelledCourse(Course):
    cancelled_sessions: list[int] = Field(description="the sessions cancelled with the course")


class CourseChanges(Body):
    title: str = omittable()
    description: str = omittable()
    academic_hours: float = omittable(description=HOURS)
    nmo_id: str | None = Field(None, description="the CME (НМО) accreditation id; null withdraws it")


class CourseCancellation(Body):
    reason: str = ""


def serialise_course(course):
    return {
        "id": course.id,
        "title": course.title,
        "description": course.description,
        "academic_hours": float(course.academic_hours),
        "nmo_id": course.nmo_id,
        "nmo": course.is_nmo,
        "trainer": {"id": course.trainer.id, "name": course.trainer.full_name} if course.trainer else None,
        "cancelled_at": iso(course.cancelled_at),
    }


def _course_or_404(course_id):
    return get_in_clinic_or_404(CourseRow, course_id, current_user, lambda c: c.clinic_id)


@bp.get("/courses/<int:course_id>")
@api.validate(resp=answers(404, HTTP_200=(Course, "The course")))
def get_course(course_id):
    """One course of the caller's clinic"""
    return jsonify(serialise_course(_course_or_404(course_id)))


@bp.patch("/courses/<int:course_id>")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(Course, "The course")))
def update_course(course_id, json: CourseChanges):
    """Edit a course (trainer or admin of its clinic)

    Fields not sent keep their values; nmo_id null withdraws the НМО accreditation. Certificates already
    issued keep what they state. Doctors enrolled in or waiting for its upcoming sessions are told of a new
    title, new hours or a new НМО status.
    """
    course = _course_or_404(course_id)
    sent = json.model_fields_set
    courses.update_course(
        current_user,
        course,
        title=json.title if "title" in sent else course.title,
        description=json.description if "description" in sent else course.description,
        academic_hours=json.academic_hours if "academic_hours" in sent else course.academic_hours,
        nmo_id=json.nmo_id if "nmo_id" in sent else course.nmo_id,
        now=utcnow(),
    )
    return jsonify(serialise_course(course))


@bp.delete("/courses/<int:course_id>")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_200=(CancelledCourse, "The cancelled course")))
def cancel_course(course_id, json: CourseCancellation):
    """Cancel a course: its sessions not yet started are cancelled and their participants told"""
    course = _course_or_404(course_id)
    cancelled = courses.cancel_course(current_user, course, reason=json.reason, now=utcnow())
    return jsonify({**serialise_course(course), "cancelled_sessions": [session.id for session in cancelled]})
