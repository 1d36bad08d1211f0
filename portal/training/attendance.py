"""Attendance (training rule 4), certificates and the learning record."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.models import User
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.time import to_local
from portal.extensions import db
from portal.training import queries
from portal.training.enrolling import enrolment_of
from portal.training.models import Certificate, Enrolment, TrainingSession
from portal.training.permissions import can_manage_session
from portal.training.queries import local_days_to_utc

LEARNING_RECORD_YEARS = 5


# Certificate numbers are random, not sequential: the public page shows the holder's name,
# so numbers must not be enumerable. No 0/O/1/I to keep them easy to read out.
CERTIFICATE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def mark_attendance(
    actor: User, training: TrainingSession, user_id: int, attended: bool, *, now: datetime
) -> Enrolment:
    """Training rule 4: after the start, a trainer marks an enrolled doctor attended or absent.

    Attended issues (or restores) the doctor's certificate; absent withdraws it.
    """
    if not can_manage_session(actor, training):
        raise NotAllowed(_("Only trainers and administrators of this clinic can mark attendance."))
    if training.status == "cancelled":
        raise Conflict(_("This session is cancelled."), code="session_cancelled")
    if now < training.start_at:
        raise Conflict(_("Attendance can be marked once the session has started."), code="session_not_started")
    enrolment = enrolment_of(user_id, training)
    if enrolment is None or enrolment.status not in ("enrolled", "attended", "absent"):
        raise Conflict(_("This person is not enrolled in the session."), code="not_enrolled", field="user_id")
    enrolment.status = "attended" if attended else "absent"
    if attended:
        _issue_certificate(enrolment, now)
    elif enrolment.certificate is not None and enrolment.certificate.revoked_at is None:
        enrolment.certificate.revoked_at = now
    db.session.flush()
    audit.record(
        "attendance_marked",
        actor=actor,
        clinic_id=training.room.clinic_id,
        obj=enrolment,
        details={"user_id": user_id, "attended": bool(attended), "training_session_id": training.id},
    )
    return enrolment


def mark_attendance_of(
    actor: User, training: TrainingSession, attended_by_user: Mapping[int, bool], *, now: datetime
) -> list[Enrolment]:
    """Mark several people at once ({user_id: attended}); returns the enrolments that changed."""
    changed = []
    for enrolment in queries.roster(training):
        if enrolment.user_id not in attended_by_user:
            continue
        wanted = "attended" if attended_by_user[enrolment.user_id] else "absent"
        if enrolment.status != wanted:
            changed.append(mark_attendance(actor, training, enrolment.user_id, wanted == "attended", now=now))
    return changed


def _issue_certificate(enrolment, now):
    """The certificate states the hours the session actually held (TrainingSession.academic_hours), and
    copies what it certifies, so later edits of the course leave it as issued."""
    training = enrolment.session
    course = training.course
    values = {
        "holder_name": enrolment.user.full_name,
        "course_title": course.title,
        "academic_hours": training.academic_hours,
        "nmo_id": course.nmo_id,
        "session_date": to_local(training.start_at, training.room.timezone).date(),
        "trainer_name": trainer_name(training),
        "clinic_name": training.room.clinic.name,
        "revoked_at": None,
    }
    certificate = enrolment.certificate
    if certificate is None:
        certificate = Certificate(
            enrolment=enrolment, number=new_certificate_number(values["session_date"]), issued_at=now
        )
        db.session.add(certificate)
    for name, value in values.items():
        setattr(certificate, name, value)
    return certificate


def trainer_name(training: TrainingSession) -> str:
    trainer = training.trainer or training.course.trainer
    return trainer.full_name if trainer else ""


def new_certificate_number(session_date: date) -> str:
    """E.g. 2026-7KQ3M-X9TRH: the year, then 50 random bits (collisions are astronomically unlikely,
    and the UNIQUE constraint would refuse one)."""
    token = "".join(secrets.choice(CERTIFICATE_ALPHABET) for _ in range(10))
    return f"{session_date.year}-{token[:5]}-{token[5:]}"


def certificate_by_number(number: str | None) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.number == (number or "").strip().upper()))


@dataclass
class RecordLine:
    """One attended session as the learning record states it: as its certificate says, when it has one."""

    enrolment: Enrolment
    day: date
    title: str
    trainer_name: str
    hours: Decimal
    nmo_id: str | None
    certificate_number: str | None

    @property
    def is_nmo(self):
        return bool(self.nmo_id)


@dataclass
class LearningRecord:
    first_day: date
    last_day: date
    rows: list
    total_hours: Decimal
    nmo_hours: Decimal


def _record_line(enrolment):
    certificate = enrolment.certificate
    if certificate is not None and certificate.is_valid:
        return RecordLine(
            enrolment,
            certificate.session_date,
            certificate.course_title,
            certificate.trainer_name,
            certificate.academic_hours,
            certificate.nmo_id,
            certificate.number,
        )
    training = enrolment.session
    return RecordLine(
        enrolment,
        to_local(training.start_at, training.room.timezone).date(),
        training.course.title,
        trainer_name(training),
        training.academic_hours,
        training.course.nmo_id,
        None,
    )


def default_period(user: User, now: datetime) -> tuple[date, date]:
    """The last five years up to today (the accreditation cycle), in the user's local dates."""
    today = to_local(now, user.timezone).date()
    try:
        first = today.replace(year=today.year - LEARNING_RECORD_YEARS)
    except ValueError:  # 29 February
        first = today.replace(year=today.year - LEARNING_RECORD_YEARS, day=28)
    return first, today


def learning_record(user: User, *, first_day: date, last_day: date) -> LearningRecord:
    """Attended sessions of `user` on local days first_day..last_day, oldest first, with hour totals.

    Each counts the hours its certificate states: those the session actually held, as issued.
    """
    if first_day > last_day:
        raise Invalid(_("The period must start before it ends."), code="invalid_period", field="first_day")
    start, end = local_days_to_utc(user.timezone, first_day, last_day)
    rows = [
        _record_line(enrolment)
        for enrolment in db.session.scalars(
            select(Enrolment)
            .join(TrainingSession)
            .where(
                Enrolment.user_id == user.id,
                Enrolment.status == "attended",
                TrainingSession.start_at >= start,
                TrainingSession.start_at < end,
            )
            .order_by(TrainingSession.start_at)
        )
    ]
    total = sum((row.hours for row in rows), Decimal(0))
    nmo = sum((row.hours for row in rows if row.is_nmo), Decimal(0))
    return LearningRecord(first_day, last_day, rows, total, nmo)
