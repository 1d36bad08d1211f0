"""Courses: what a trainer teaches, how many academic hours it is worth, its НМО accreditation."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.models import User
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.extensions import db
from portal.training.enrolling import active_enrolments
from portal.training.models import Course, TrainingSession
from portal.training.notices import format_hours, tell, when
from portal.training.permissions import can_run_courses
from portal.training.scheduling import cancel_session

MAX_ACADEMIC_HOURS = Decimal("99.5")


def parse_academic_hours(raw: object) -> Decimal:
    """Academic hours as a Decimal in steps of 0.5 (one 45-minute academic hour is the unit)."""
    try:
        hours = Decimal(str(raw).replace(",", ".")) if not isinstance(raw, bool) else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or hours <= 0 or hours > MAX_ACADEMIC_HOURS or hours % Decimal("0.5"):
        raise Invalid(
            _("Academic hours must be a number from 0.5 to 99.5 in steps of 0.5."),
            code="invalid_academic_hours",
            field="academic_hours",
        )
    return hours


def _course_fields(title, description, academic_hours, nmo_id):
    """Check a course's title, description, hours and НМО id; returns the cleaned values."""
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise Invalid(_("Enter the course title (up to 200 characters)."), code="invalid_title", field="title")
    description = (description or "").strip()
    if len(description) > 5000:
        raise Invalid(
            _("The description is too long (up to 5000 characters)."), code="invalid_description", field="description"
        )
    nmo_id = (nmo_id or "").strip() or None
    if nmo_id is not None and len(nmo_id) > 60:
        raise Invalid(_("The CME accreditation id is at most 60 characters."), code="invalid_nmo_id", field="nmo_id")
    return {
        "title": title,
        "description": description,
        "academic_hours": parse_academic_hours(academic_hours),
        "nmo_id": nmo_id,
    }


def create_course(
    actor: User,
    clinic_id: int,
    *,
    title: str,
    academic_hours: object,
    nmo_id: str | None = None,
    description: str = "",
    now: datetime,
) -> Course:
    """A course of `clinic_id`, run by `actor`. Without an НМО accreditation id it gives no НМО credit."""
    if not can_run_courses(actor, clinic_id):
        raise NotAllowed(_("Only trainers and administrators of this clinic can create courses."))
    course = Course(
        clinic_id=clinic_id,
        trainer_id=actor.id,
        created_at=now,
        **_course_fields(title, description, academic_hours, nmo_id),
    )
    db.session.add(course)
    db.session.flush()
    audit.record("course_created", actor=actor, clinic_id=clinic_id, obj=course, details={"title": course.title})
    return course


# What doctors signed up for a course's sessions are told about when it changes (the description is not news).
NOTIFIED_COURSE_FIELDS = ("title", "academic_hours", "nmo_id")


def update_course(
    actor: User,
    course: Course,
    *,
    title: str,
    description: str,
    academic_hours: object,
    nmo_id: str | None,
    now: datetime,
) -> Course:
    """Edit a course: title, description, academic hours, НМО accreditation.

    Certificates already issued keep what they certified (they copy it at issue time). Doctors enrolled
    in or waiting for its sessions still ahead are told when the title, the hours or the НМО status change.
    """
    if not can_run_courses(actor, course.clinic_id):
        raise NotAllowed(_("Only trainers and administrators of this clinic can edit courses."))
    if course.cancelled_at is not None:
        raise Conflict(_("This course is cancelled."), code="course_cancelled")
    values = _course_fields(title, description, academic_hours, nmo_id)
    before = {name: getattr(course, name) for name in values}
    changed = [name for name in values if values[name] != before[name]]
    if not changed:
        return course
    for name in changed:
        setattr(course, name, values[name])
    db.session.flush()
    if set(changed) & set(NOTIFIED_COURSE_FIELDS):
        _tell_participants(course, before["title"], now)
    audit.record(
        "course_updated",
        actor=actor,
        clinic_id=course.clinic_id,
        obj=course,
        details={
            "before": {name: _plain(before[name]) for name in changed},
            "after": {name: _plain(values[name]) for name in changed},
        },
    )
    return course


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def upcoming_sessions_of(course: Course, now: datetime) -> Sequence[TrainingSession]:
    return db.session.scalars(
        select(TrainingSession)
        .where(
            TrainingSession.course_id == course.id,
            TrainingSession.status == "scheduled",
            TrainingSession.start_at > now,
        )
        .order_by(TrainingSession.start_at)
    ).all()


def _tell_participants(course, old_title, now):
    for training in upcoming_sessions_of(course, now):
        for enrolment in active_enrolments(training):
            tell(
                enrolment.user,
                "training_changed",
                lambda training=training: (
                    _("Training changed: %(title)s", title=course.title),
                    _(
                        "Your session on %(when)s is now: “%(title)s”, %(hours)s, %(nmo)s.",
                        when=when(training),
                        title=course.title,
                        hours=format_hours(training.academic_hours),
                        nmo=_("CME %(id)s", id=course.nmo_id) if course.nmo_id else _("no CME credit"),
                    )
                    + (" " + _("Formerly: “%(title)s”.", title=old_title) if old_title != course.title else ""),
                ),
            )


def cancel_course(actor: User, course: Course, *, reason: str = "", now: datetime) -> list[TrainingSession]:
    """Cancel a course: its sessions not yet started are cancelled (their participants told), and it gets
    no new ones. It stays in the learning records and certificates of those who attended it."""
    if not can_run_courses(actor, course.clinic_id):
        raise NotAllowed(_("Only trainers and administrators of this clinic can cancel courses."))
    if course.cancelled_at is not None:
        raise Conflict(_("This course is already cancelled."), code="course_cancelled")
    cancelled = [
        cancel_session(actor, training, reason=reason, now=now) for training in upcoming_sessions_of(course, now)
    ]
    course.cancelled_at = now
    db.session.flush()
    audit.record(
        "course_cancelled",
        actor=actor,
        clinic_id=course.clinic_id,
        obj=course,
        details={"reason": (reason or "").strip()[:300], "cancelled_sessions": [s.id for s in cancelled]},
    )
    return cancelled


def courses_of_clinic(clinic_id: int, *, include_cancelled: bool = False) -> Sequence[Course]:
    query = select(Course).where(Course.clinic_id == clinic_id).order_by(Course.title)
    if not include_cancelled:
        query = query.where(Course.cancelled_at.is_(None))
    return db.session.scalars(query).all()
