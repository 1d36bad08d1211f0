"""The audit log of a clinic as its administrators search it: by person, by object, by kind and by date."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, false, or_, select

from portal.auth.models import User
from portal.booking.models import Booking
from portal.clinics.labels import KIND_LABELS
from portal.clinics.models import Clinic, Closure, EquipmentItem, ProblemReport, Room, Workstation
from portal.core.models import AuditEntry
from portal.core.time import local_to_utc
from portal.extensions import db
from portal.reports.audit_sentences import KINDS
from portal.search.models import LinkedResource
from portal.training.models import Course, Enrolment, TrainingSession


def _people(pattern):
    return select(User.id).where(or_(User.full_name.ilike(pattern), User.email.ilike(pattern)))


def _concerns_person(pattern):
    """Entries by the person, and entries about them: their account, their bookings, their enrolments."""
    people = _people(pattern)
    return or_(
        AuditEntry.actor_id.in_(people),
        _object_in(User, people),
        _object_in(Booking, select(Booking.id).where(Booking.user_id.in_(people))),
        _object_in(Enrolment, select(Enrolment.id).where(Enrolment.user_id.in_(people))),
    )


def _object_in(model, ids):
    return and_(AuditEntry.object_type == model.__tablename__, AuditEntry.object_id.in_(ids))


def _concerns_object(text):
    """Entries about a thing named like `text`: a workstation (and its bookings), a room (and its closures),
    an item of equipment by kind or inventory number, a course (and its sessions), a person, a resource."""
    pattern = f"%{text}%"
    workstations = select(Workstation.id).where(Workstation.label.ilike(pattern))
    rooms = select(Room.id).where(Room.name.ilike(pattern))
    # Kinds are stored as codes: a reader types their name, in their language.
    kinds = [kind for kind, label in KIND_LABELS.items() if text.lower() in (kind + " " + str(label)).lower()]
    items = select(EquipmentItem.id).where(
        or_(EquipmentItem.inventory_number.ilike(pattern), EquipmentItem.kind.in_(kinds) if kinds else false())
    )
    courses = select(Course.id).where(Course.title.ilike(pattern))
    sessions = select(TrainingSession.id).where(TrainingSession.course_id.in_(courses))
    return or_(
        _object_in(Workstation, workstations),
        _object_in(Booking, select(Booking.id).where(Booking.workstation_id.in_(workstations))),
        _object_in(Room, rooms),
        _object_in(Closure, select(Closure.id).where(Closure.room_id.in_(rooms))),
        _object_in(EquipmentItem, items),
        _object_in(
            ProblemReport,
            select(ProblemReport.id).where(
                or_(ProblemReport.workstation_id.in_(workstations), ProblemReport.equipment_id.in_(items))
            ),
        ),
        _object_in(Course, courses),
        _object_in(TrainingSession, sessions),
        _object_in(Enrolment, select(Enrolment.id).where(Enrolment.session_id.in_(sessions))),
        _object_in(User, _people(pattern)),
        _object_in(Clinic, select(Clinic.id).where(or_(Clinic.name.ilike(pattern), Clinic.short_name.ilike(pattern)))),
        _object_in(LinkedResource, select(LinkedResource.id).where(LinkedResource.name.ilike(pattern))),
    )


def search(
    clinic: Clinic,
    *,
    person: str | None = None,
    thing: str | None = None,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    page_size: int = 100,
):
    """One page of a clinic's entries, newest first: (entries, whether a next page exists).

    `person` matches a name or e-mail of whoever acted or was acted on, `thing` the name of the object
    (both as typed: ilike, since SQLite folds only ASCII case), `kind` a key of KINDS; the dates are local
    days of the clinic, both included.
    """
    query = (
        select(AuditEntry).where(AuditEntry.clinic_id == clinic.id).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    if person and person.strip():
        query = query.where(_concerns_person(f"%{person.strip()}%"))
    if thing and thing.strip():
        query = query.where(_concerns_object(thing.strip()))
    if kind in KINDS:
        query = query.where(AuditEntry.action.in_(KINDS[kind][1]))
    if date_from:
        query = query.where(AuditEntry.at >= local_to_utc(datetime.combine(date_from, time()), clinic.timezone))
    if date_to:
        query = query.where(
            AuditEntry.at < local_to_utc(datetime.combine(date_to + timedelta(days=1), time()), clinic.timezone)
        )
    entries = db.session.scalars(query.offset((page - 1) * page_size).limit(page_size + 1)).all()
    return entries[:page_size], len(entries) > page_size
