"""Courses: what a trainer teaches, how many academic hours it is worth, its НМО accreditation."""
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import audit
from portal.core.errors import Invalid, NotAllowed
from portal.extensions import db
from portal.training.models import Course
from portal.training.permissions import can_run_courses

MAX_ACADEMIC_HOURS = Decimal("99.5")


def parse_academic_hours(raw):
    """Academic hours as a Decimal in steps of 0.5 (one 45-minute academic hour is the unit)."""
    try:
        hours = Decimal(str(raw).replace(",", ".")) if not isinstance(raw, bool) else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or hours <= 0 or hours > MAX_ACADEMIC_HOURS or hours % Decimal(
            "0.5"):
        raise Invalid(_("Academic hours must be a number from 0.5 to 99.5 in steps of 0.5."),
                      code="invalid_academic_hours", field="academic_hours")
    return hours


def create_course(actor, clinic_id, *, title, academic_hours, nmo_id=None, description="", now):
    """A course of `clinic_id`, run by `actor`. Without an НМО accreditation id it gives no НМО credit."""
    if not can_run_courses(actor, clinic_id):
        raise NotAllowed(_("Only trainers and administrators of this clinic can create courses."))
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise Invalid(_("Enter the course title (up to 200 characters)."), code="invalid_title", field="title")
    nmo_id = (nmo_id or "").strip() or None
    if nmo_id is not None and len(nmo_id) > 60:
        raise Invalid(_("The НМО accreditation id is at most 60 characters."), code="invalid_nmo_id", field="nmo_id")
    course = Course(clinic_id=clinic_id, title=title, description=(description or "").strip(),
                    trainer_id=actor.id, academic_hours=parse_academic_hours(academic_hours), nmo_id=nmo_id,
                    created_at=now)
    db.session.add(course)
    db.session.flush()
    audit.record("course_created", actor=actor, clinic_id=clinic_id, obj=course, details={"title": title})
    return course


def courses_of_clinic(clinic_id):
    return db.session.scalars(select(Course).where(Course.clinic_id == clinic_id).order_by(Course.title)).all()
