"""What the training pages, the API and the booking package read."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.models import User, UserRole
from portal.booking.calendar import CalendarItem
from portal.clinics.models import DEFAULT_POLICY, Room
from portal.core.errors import Invalid
from portal.core.time import local_to_utc
from portal.extensions import db
from portal.training.models import ACTIVE_ENROLMENT_STATUSES, Course, Enrolment, TrainingSession

MAX_LIST_DAYS = 366


def catalogue(user, *, now, topic=None, first_day=None, last_day=None):
    """Upcoming scheduled sessions of the user's clinic, soonest first, optionally by topic and dates.

    The topic filter runs in Python: SQLite's lower() folds only ASCII, and titles are Russian.
    """
    query = (
        select(TrainingSession)
        .join(Room, Room.id == TrainingSession.room_id)
        .where(Room.clinic_id == user.clinic_id, TrainingSession.status == "scheduled", TrainingSession.start_at > now)
        .order_by(TrainingSession.start_at)
    )
    if first_day is not None:
        query = query.where(TrainingSession.start_at >= local_days_to_utc(user.timezone, first_day, first_day)[0])
    if last_day is not None:
        query = query.where(TrainingSession.start_at < local_days_to_utc(user.timezone, last_day, last_day)[1])
    sessions = db.session.scalars(query).all()
    needle = (topic or "").strip().casefold()
    if needle:
        sessions = [
            s for s in sessions if needle in s.course.title.casefold() or needle in s.course.description.casefold()
        ]
    return sessions


def local_days_to_utc(timezone, first_day, last_day):
    """[UTC start of first_day, UTC start of the day after last_day) for local dates of `timezone`."""
    return (
        local_to_utc(datetime.combine(first_day, datetime.min.time()), timezone),
        local_to_utc(datetime.combine(last_day + timedelta(days=1), datetime.min.time()), timezone),
    )


def list_sessions(user, *, room=None, start=None, end=None, now):
    """Sessions of `room` (else of the user's clinic) starting in [start, end), held ones too, not cancelled ones.

    Without a start: from now; without an end: to the room's booking horizon after the start.
    """
    if room is None and not user.clinic_id:
        raise Invalid(_("Choose a room."), code="invalid_parameter", field="room_id")
    start = start or now
    end = end or start + timedelta(days=room.horizon_days if room else DEFAULT_POLICY["horizon_days"])
    if not start < end <= start + timedelta(days=MAX_LIST_DAYS):
        raise Invalid(
            _("The period must start before it ends and last at most %(n)d days.", n=MAX_LIST_DAYS),
            code="invalid_parameter",
            field="to",
        )
    query = select(TrainingSession).where(
        TrainingSession.status != "cancelled", TrainingSession.start_at >= start, TrainingSession.start_at < end
    )
    if room is not None:
        query = query.where(TrainingSession.room_id == room.id)
    else:
        query = query.join(Room, Room.id == TrainingSession.room_id).where(Room.clinic_id == user.clinic_id)
    return db.session.scalars(query.order_by(TrainingSession.start_at)).all()


def sessions_of_clinic(clinic_id, start, end):
    return db.session.scalars(
        select(TrainingSession)
        .join(Room, Room.id == TrainingSession.room_id)
        .where(Room.clinic_id == clinic_id, TrainingSession.start_at >= start, TrainingSession.start_at < end)
        .order_by(TrainingSession.start_at)
    ).all()


def my_enrolments(user, training_ids):
    """The user's enrolments in the given sessions, by session id."""
    if not training_ids:
        return {}
    rows = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.session_id.in_(training_ids))
    )
    return {row.session_id: row for row in rows}


def upcoming_for_user(user, *, now):
    """The user's enrolled or waitlisted sessions still ahead (the dashboard panel)."""
    return db.session.scalars(
        select(Enrolment)
        .join(TrainingSession)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.status.in_(ACTIVE_ENROLMENT_STATUSES),
            TrainingSession.status == "scheduled",
            TrainingSession.end_at > now,
        )
        .order_by(TrainingSession.start_at)
    ).all()


def roster(training):
    """Everyone with a seat or a past seat (enrolled, attended, absent), by name."""
    return db.session.scalars(
        select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.session_id == training.id, Enrolment.status.in_(("enrolled", "attended", "absent")))
        .order_by(User.full_name)
    ).all()


def trainers_of_clinic(clinic_id):
    """Who may run a clinic's sessions: its active trainers and administrators, by name."""
    return db.session.scalars(
        select(User)
        .where(
            User.clinic_id == clinic_id,
            User.active.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(("trainer", "admin")))),
        )
        .order_by(User.full_name)
    ).all()


def sessions_in_room(room_id, start, end):
    """The room's sessions overlapping [start, end), held or ahead, by start — what booking's availability needs."""
    rows = (
        db.session.execute(
            select(
                TrainingSession.id,
                TrainingSession.start_at,
                TrainingSession.end_at,
                TrainingSession.whole_room,
                TrainingSession.capacity,
                TrainingSession.seats_taken,
                Course.title,
            )
            .join(Course, Course.id == TrainingSession.course_id)
            .where(
                TrainingSession.room_id == room_id,
                TrainingSession.status != "cancelled",
                TrainingSession.start_at < end,
                TrainingSession.end_at > start,
            )
            .order_by(TrainingSession.start_at)
        )
        .mappings()
        .all()
    )
    return [dict(row) for row in rows]


def calendar_items(user, since):
    """The user's sessions (enrolled or attended) from `since` on, for their private calendar feed."""
    sessions = db.session.execute(
        select(TrainingSession, Course.title)
        .join(Enrolment, Enrolment.session_id == TrainingSession.id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.status.in_(("enrolled", "attended")),
            TrainingSession.start_at >= since,
        )
        .order_by(TrainingSession.start_at)
    ).all()
    return [
        CalendarItem(
            kind="training",
            id=session.id,
            start=session.start_at,
            end=session.end_at,
            summary=_("Training: %(title)s", title=title),
            location=session.room.name,
            cancelled=session.status == "cancelled",
        )
        for session, title in sessions
    ]
