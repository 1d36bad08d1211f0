"""Training rules: courses, sessions, enrolment with a FIFO waitlist, attendance, learning record.

Every function takes the acting user and `now` explicitly, raises portal.core.errors
and only flushes: the web view, the API or the CLI commits once (or rolls back).

How enrolment stays exact under concurrent requests: every change to a session's
seats first locks the session row (SELECT … FOR UPDATE on PostgreSQL; on SQLite the
portal begins every transaction IMMEDIATE, so writers are serialised anyway). The
seat count, the waitlist order and the promotion are therefore decided by one
transaction at a time, and the CHECK seats_taken <= capacity is the last line of
defence should a code path ever forget the lock.
"""
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.booking import services as booking_services
from portal.clinics.models import DEFAULT_POLICY, Room
from portal.clinics.schedule import closures_between, weekly_intervals
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.core.notifications import in_language_of, notify
from portal.core.time import format_local, iso, local_to_utc, to_local
from portal.core.urls import portal_url
from portal.extensions import db
from portal.training.models import (
    ACTIVE_ENROLMENT_STATUSES, SESSION_OVERLAP, Certificate, Course, Enrolment, TrainingSession)
from portal.training.permissions import (
    can_cancel_bookings_for, can_enrol, can_manage_session, can_run_courses, can_schedule_in_room)

ACADEMIC_HOUR_MINUTES = 45
PRESET_MINUTES = (45, 90)
MAX_SESSION_MINUTES = 8 * 60
MAX_SERIES_WEEKS = 26
MAX_ACADEMIC_HOURS = Decimal("99.5")
LEARNING_RECORD_YEARS = 5
MAX_LIST_DAYS = 366
# Certificate numbers are random, not sequential: the public page shows the holder's name,
# so numbers must not be enumerable. No 0/O/1/I to keep them easy to read out.
CERTIFICATE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# --- courses ------------------------------------------------------------------------------

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


# --- scheduling ---------------------------------------------------------------------------

def schedule_session(actor, *, course, room, start, end, capacity, whole_room=False,
                     cancel_conflicting_bookings=False, now):
    """Schedule one session of `course` in `room` (training rules 1 and 2).

    Refused when the actor may not train in the room's clinic, when the time is
    not ahead, outside the room's opening hours or in a closure, when the seats
    exceed the room's capacity, when another session of the room overlaps (the
    database decides: 409 session_overlap), and — for a whole-room session — when
    active bookings are in the way, unless an admin confirms cancelling them; then
    they are cancelled and their doctors notified.
    """
    if not can_schedule_in_room(actor, room):
        raise NotAllowed(_("You can schedule sessions only in rooms of your own clinic."))
    if not room.is_active:
        raise Conflict(_("This room no longer takes trainings."), code="room_withdrawn", field="room_id")
    if course.clinic_id != room.clinic_id:
        raise Invalid(_("This course belongs to another clinic."), code="invalid_course", field="course_id")
    _check_times(room, start, end, now)
    _check_capacity(room, capacity)
    conflicts = []
    if whole_room:
        # Bookings take this lock shared: holding it exclusively, no booking can slip in between
        # the check below and the insert of the session.
        booking_services.lock_room(room.id, exclusive=True)
        conflicts = booking_services.active_bookings_overlapping(room.id, start, end)
        if conflicts and not cancel_conflicting_bookings:
            raise Conflict(_("Active bookings are in the way of a whole-room session. An administrator can "
                             "confirm cancelling them."), code="bookings_conflict", field="start",
                           details={"conflicts": [describe_booking(b) for b in conflicts]})
        if conflicts and not can_cancel_bookings_for(actor, room):
            raise NotAllowed(_("Only an administrator of the clinic can cancel bookings for a session."),
                             code="confirmation_requires_admin")
    training = TrainingSession(course_id=course.id, room_id=room.id, start_at=start, end_at=end,
                               capacity=capacity, whole_room=bool(whole_room), status="scheduled",
                               created_by_id=actor.id, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(training)
            db.session.flush()
    except IntegrityError as error:
        if SESSION_OVERLAP not in str(error.orig):
            raise
        raise Conflict(_("Another session in this room overlaps this time."), code="session_overlap",
                       field="start") from None
    # Only now that the session stands are bookings cancelled, so no doctor is told about
    # a cancellation that a refused session would have rolled back.
    for booking in conflicts:
        _cancel_booking_for_session(actor, booking, training, now)
    audit.record("training_session_scheduled", actor=actor, clinic_id=room.clinic_id, obj=training,
                 details={"course_id": course.id, "start": iso(start), "end": iso(end), "whole_room": whole_room,
                          "cancelled_bookings": [b.id for b in conflicts]})
    return training


def _check_times(room, start, end, now):
    if start is None:
        raise Invalid(_("Enter the start time."), code="invalid_time", field="start")
    if end is None or end <= start:
        raise Invalid(_("The end must be after the start."), code="invalid_time", field="end")
    if start <= now:
        raise Invalid(_("A session can only be scheduled in the future."), code="in_past", field="start")
    if end - start > timedelta(minutes=MAX_SESSION_MINUTES):
        raise Invalid(_("A session lasts at most 8 hours."), code="too_long", field="end")
    local_day = to_local(start, room.timezone).date()
    if not any(opens <= start and end <= closes for opens, closes in weekly_intervals(room, local_day, local_day)):
        raise Conflict(_("The room is not open for the whole session."), code="outside_hours", field="start")
    if closures_between(room, start, end):
        raise Conflict(_("The room is closed at this time."), code="room_closed", field="start")


def _check_capacity(room, capacity):
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise Invalid(_("Seats must be a whole number of at least 1."), code="invalid_capacity", field="capacity")
    if capacity > room.capacity:
        raise Invalid(_("The room has only %(n)d seats for trainings.", n=room.capacity),
                      code="capacity_exceeds_room", field="capacity")


def describe_booking(booking):
    """A conflicting booking as the trainer sees it (trainers of the clinic may see who booked)."""
    timezone = booking.room.timezone
    return {"id": booking.id, "workstation_id": booking.workstation_id,
            "workstation": booking.workstation.label, "start": iso(booking.start_at, timezone),
            "end": iso(booking.end_at, timezone), "user": booking.user.full_name if booking.user else None}


def _cancel_booking_for_session(actor, booking, training, now):
    # The reason is stored once, so it is written in the portal's default language; the booking
    # service tells the doctor (in their language) and audits the cancellation.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        reason = _("The room is taken by the training “%(title)s”.", title=training.course.title)
    booking_services.cancel_booking(actor, booking, now=now, reason=reason)


@dataclass
class SeriesDate:
    """One date of a recurring series: the session created, or why that date was refused."""

    start: datetime
    end: datetime
    session: TrainingSession | None = None
    error: object = None
    conflicts: list = field(default_factory=list)


def schedule_series(actor, *, course, room, first_start, minutes, weeks, capacity, whole_room=False,
                    cancel_conflicting_bookings=False, now):
    """A weekly series in one step: every date that fits is scheduled, each refused date says why.

    Dates repeat at the same local wall-clock time (a series keeps its hour across a
    time-zone change). Each date is tried in its own savepoint, so one refusal leaves
    the other dates intact.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_SERIES_WEEKS:
        raise Invalid(_("A series repeats for 1 to %(n)d weeks.", n=MAX_SERIES_WEEKS), code="invalid_weeks",
                      field="weeks")
    local_first = to_local(first_start, room.timezone).replace(tzinfo=None)
    results = []
    for week in range(weeks):
        start = local_to_utc(local_first + timedelta(weeks=week), room.timezone)
        item = SeriesDate(start=start, end=start + timedelta(minutes=minutes))
        try:
            with db.session.begin_nested():
                item.session = schedule_session(
                    actor, course=course, room=room, start=item.start, end=item.end, capacity=capacity,
                    whole_room=whole_room, cancel_conflicting_bookings=cancel_conflicting_bookings, now=now)
        except (Invalid, Conflict, NotAllowed) as error:
            item.error = error
            item.conflicts = error.details.get("conflicts", [])
        results.append(item)
    return results


def cancel_session(actor, training, *, reason="", now):
    """Cancel a session that has not started; everyone enrolled or waitlisted is notified.

    `actor` None is the system (a room withdrawn from the command line)."""
    if actor is not None and not can_manage_session(actor, training):
        raise NotAllowed(_("Only trainers and administrators of this clinic can cancel sessions."))
    training = lock_session(training)
    if training.status != "scheduled":
        raise Conflict(_("This session is already cancelled."), code="session_cancelled")
    if now >= training.start_at:
        raise Conflict(_("A session that has started can no longer be cancelled."), code="session_started")
    training.status = "cancelled"
    training.seats_taken = 0
    affected = active_enrolments(training)
    reason = (reason or "").strip()[:300]
    for enrolment in affected:
        enrolment.status = "cancelled"
        _tell(enrolment.user, "training_cancelled", lambda: (
            _("Training cancelled: %(title)s", title=training.course.title),
            _("The session of %(when)s was cancelled.", when=_when(training))
            + (" " + _("Reason: %(reason)s", reason=reason) if reason else "")))
    db.session.flush()
    audit.record("training_session_cancelled", actor=actor, clinic_id=training.room.clinic_id, obj=training,
                 details={"reason": reason, "notified": len(affected)})
    return training


# --- enrolment ----------------------------------------------------------------------------

def lock_session(training):
    """Re-read the session under a row lock; everything seat-related happens after this."""
    # OF training_sessions: the course is joined eagerly, and only the session row is to be locked.
    return db.session.scalars(
        select(TrainingSession).where(TrainingSession.id == training.id)
        .with_for_update(of=TrainingSession).execution_options(populate_existing=True)).one()


def enrolment_of(user_id, training):
    return db.session.scalar(select(Enrolment).where(
        Enrolment.session_id == training.id, Enrolment.user_id == user_id))


def active_enrolments(training):
    return db.session.scalars(select(Enrolment).where(
        Enrolment.session_id == training.id, Enrolment.status.in_(ACTIVE_ENROLMENT_STATUSES))
        .order_by(Enrolment.id)).all()


def _require_open_for_enrolment(training, now):
    if training.status != "scheduled":
        raise Conflict(_("This session is cancelled."), code="session_cancelled")
    if now >= training.start_at:
        raise Conflict(_("Enrolment closed when the session started."), code="enrolment_closed")


def enrol(actor, training, *, now):
    """Enrol `actor` (training rule 3): a free seat if one is left, else the end of the waitlist.

    Returns (enrolment, changed); asking again while enrolled or waitlisted changes nothing.
    Leaving and coming back reuses the same row and joins the waitlist at its end.
    """
    if not can_enrol(actor, training):
        raise NotAllowed(_("Only doctors of this clinic can enrol in its sessions."))
    training = lock_session(training)
    _require_open_for_enrolment(training, now)
    enrolment = enrolment_of(actor.id, training)
    if enrolment is not None and enrolment.status in ACTIVE_ENROLMENT_STATUSES:
        return enrolment, False
    if enrolment is None:
        enrolment = Enrolment(session_id=training.id, user_id=actor.id, created_at=now)
        db.session.add(enrolment)
    # The row lock makes this read-then-write exact: no other transaction changes the seats meanwhile.
    if training.seats_taken < training.capacity:
        training.seats_taken += 1
        enrolment.status = "enrolled"
        db.session.flush()
        _tell(actor, "training_enrolled", lambda: (
            _("You are enrolled: %(title)s", title=training.course.title),
            _("See you on %(when)s in %(room)s.", when=_when(training), room=training.room.name)))
    else:
        enrolment.status = "waitlisted"
        enrolment.waitlist_seq = _next_waitlist_seq(training)
        db.session.flush()
        position = waitlist_position(enrolment)
        _tell(actor, "training_waitlisted", lambda: (
            _("You are on the waitlist: %(title)s", title=training.course.title),
            _("Your place on the waitlist: %(position)d. You will be enrolled and told as soon as a seat "
              "frees.", position=position)))
    return enrolment, True


def _next_waitlist_seq(training):
    # Over every row of the session, cancelled ones included, so the sequence only grows.
    highest = db.session.scalar(select(func.max(Enrolment.waitlist_seq)).where(Enrolment.session_id == training.id))
    return (highest or 0) + 1


def waitlist_position(enrolment):
    """1-based rank among the session's waitlisted doctors; None unless waitlisted."""
    if enrolment.status != "waitlisted":
        return None
    return db.session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.session_id == enrolment.session_id, Enrolment.status == "waitlisted",
        Enrolment.waitlist_seq <= enrolment.waitlist_seq))


def waitlist(training):
    return db.session.scalars(select(Enrolment).where(
        Enrolment.session_id == training.id, Enrolment.status == "waitlisted")
        .order_by(Enrolment.waitlist_seq)).all()


def leave(actor, training, *, now):
    """Leave a session before it starts; a freed seat goes to the first waitlisted doctor."""
    training = lock_session(training)
    enrolment = enrolment_of(actor.id, training)
    if enrolment is None or enrolment.status not in ACTIVE_ENROLMENT_STATUSES:
        raise NotFound(_("You are not enrolled in this session."), code="not_enrolled")
    _require_open_for_enrolment(training, now)
    had_seat = enrolment.status == "enrolled"
    enrolment.status = "cancelled"
    if had_seat:
        training.seats_taken -= 1
    db.session.flush()
    promote_waitlist(training)
    return enrolment


def promote_waitlist(training):
    """Give free seats to the waitlist in FIFO order and tell each promoted doctor. Needs the session lock."""
    promoted = []
    for enrolment in waitlist(training):
        if training.seats_taken >= training.capacity:
            break
        training.seats_taken += 1
        enrolment.status = "enrolled"
        promoted.append(enrolment)
        _tell(enrolment.user, "training_promoted", lambda: (
            _("A seat is yours: %(title)s", title=training.course.title),
            _("A seat freed and you moved up from the waitlist. See you on %(when)s in %(room)s.",
              when=_when(training), room=training.room.name)))
    db.session.flush()
    return promoted


# --- attendance and certificates ------------------------------------------------------------

def mark_attendance(actor, training, user_id, attended, *, now):
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
    audit.record("attendance_marked", actor=actor, clinic_id=training.room.clinic_id, obj=enrolment,
                 details={"user_id": user_id, "attended": bool(attended), "training_session_id": training.id})
    return enrolment


def _issue_certificate(enrolment, now):
    training = enrolment.session
    course = training.course
    values = {
        "holder_name": enrolment.user.full_name, "course_title": course.title,
        "academic_hours": course.academic_hours, "nmo_id": course.nmo_id,
        "session_date": to_local(training.start_at, training.room.timezone).date(),
        "trainer_name": course.trainer.full_name if course.trainer else "",
        "clinic_name": training.room.clinic.name, "revoked_at": None,
    }
    certificate = enrolment.certificate
    if certificate is None:
        certificate = Certificate(enrolment=enrolment, number=new_certificate_number(values["session_date"]),
                                  issued_at=now)
        db.session.add(certificate)
    for name, value in values.items():
        setattr(certificate, name, value)
    return certificate


def new_certificate_number(session_date):
    """E.g. 2026-7KQ3M-X9TRH: the year, then 50 random bits (collisions are astronomically unlikely,
    and the UNIQUE constraint would refuse one)."""
    token = "".join(secrets.choice(CERTIFICATE_ALPHABET) for _ in range(10))
    return f"{session_date.year}-{token[:5]}-{token[5:]}"


def certificate_by_number(number):
    return db.session.scalar(select(Certificate).where(Certificate.number == (number or "").strip().upper()))


# --- what doctors see ---------------------------------------------------------------------

def catalogue(user, *, now, topic=None, first_day=None, last_day=None):
    """Upcoming scheduled sessions of the user's clinic, soonest first, optionally by topic and dates.

    The topic filter runs in Python: SQLite's lower() folds only ASCII, and titles are Russian.
    """
    query = (select(TrainingSession).join(Room, Room.id == TrainingSession.room_id)
             .where(Room.clinic_id == user.clinic_id, TrainingSession.status == "scheduled",
                    TrainingSession.start_at > now).order_by(TrainingSession.start_at))
    if first_day is not None:
        query = query.where(TrainingSession.start_at >= local_days_to_utc(user.timezone, first_day, first_day)[0])
    if last_day is not None:
        query = query.where(TrainingSession.start_at < local_days_to_utc(user.timezone, last_day, last_day)[1])
    sessions = db.session.scalars(query).all()
    needle = (topic or "").strip().casefold()
    if needle:
        sessions = [s for s in sessions
                    if needle in s.course.title.casefold() or needle in s.course.description.casefold()]
    return sessions


def local_days_to_utc(timezone, first_day, last_day):
    """[UTC start of first_day, UTC start of the day after last_day) for local dates of `timezone`."""
    return (local_to_utc(datetime.combine(first_day, datetime.min.time()), timezone),
            local_to_utc(datetime.combine(last_day + timedelta(days=1), datetime.min.time()), timezone))


def list_sessions(user, *, room=None, start=None, end=None, now):
    """Scheduled sessions of `room` (else of the user's clinic) starting in [start, end).

    Without a start: from now; without an end: to the room's booking horizon after the start.
    """
    if room is None and not user.clinic_id:
        raise Invalid(_("Choose a room."), code="invalid_parameter", field="room_id")
    start = start or now
    end = end or start + timedelta(days=room.horizon_days if room else DEFAULT_POLICY["horizon_days"])
    if not start < end <= start + timedelta(days=MAX_LIST_DAYS):
        raise Invalid(_("The period must start before it ends and last at most %(n)d days.", n=MAX_LIST_DAYS),
                      code="invalid_parameter", field="to")
    query = select(TrainingSession).where(
        TrainingSession.status == "scheduled", TrainingSession.start_at >= start, TrainingSession.start_at < end)
    if room is not None:
        query = query.where(TrainingSession.room_id == room.id)
    else:
        query = query.join(Room, Room.id == TrainingSession.room_id).where(Room.clinic_id == user.clinic_id)
    return db.session.scalars(query.order_by(TrainingSession.start_at)).all()


def sessions_of_clinic(clinic_id, start, end):
    return db.session.scalars(select(TrainingSession).join(Room, Room.id == TrainingSession.room_id).where(
        Room.clinic_id == clinic_id, TrainingSession.start_at >= start, TrainingSession.start_at < end)
        .order_by(TrainingSession.start_at)).all()


def my_enrolments(user, training_ids):
    """The user's enrolments in the given sessions, by session id."""
    if not training_ids:
        return {}
    rows = db.session.scalars(select(Enrolment).where(
        Enrolment.user_id == user.id, Enrolment.session_id.in_(training_ids)))
    return {row.session_id: row for row in rows}


def upcoming_for_user(user, *, now):
    """The user's enrolled or waitlisted sessions still ahead (the dashboard panel)."""
    return db.session.scalars(select(Enrolment).join(TrainingSession).where(
        Enrolment.user_id == user.id, Enrolment.status.in_(ACTIVE_ENROLMENT_STATUSES),
        TrainingSession.status == "scheduled", TrainingSession.end_at > now)
        .order_by(TrainingSession.start_at)).all()


def sessions_for_calendar(user):
    """Scheduled sessions the user is enrolled in or attended, for their iCalendar feed."""
    return db.session.scalars(select(TrainingSession).join(Enrolment).where(
        Enrolment.user_id == user.id, Enrolment.status.in_(("enrolled", "attended")),
        TrainingSession.status == "scheduled").order_by(TrainingSession.start_at)).all()


def roster(training):
    """Everyone with a seat or a past seat (enrolled, attended, absent), by name."""
    return db.session.scalars(select(Enrolment).join(User, User.id == Enrolment.user_id).where(
        Enrolment.session_id == training.id, Enrolment.status.in_(("enrolled", "attended", "absent")))
        .order_by(User.full_name)).all()


@dataclass
class LearningRecord:
    first_day: date
    last_day: date
    rows: list
    total_hours: Decimal
    nmo_hours: Decimal


def default_period(user, now):
    """The last five years up to today (the accreditation cycle), in the user's local dates."""
    today = to_local(now, user.timezone).date()
    try:
        first = today.replace(year=today.year - LEARNING_RECORD_YEARS)
    except ValueError:  # 29 February
        first = today.replace(year=today.year - LEARNING_RECORD_YEARS, day=28)
    return first, today


def learning_record(user, *, first_day, last_day):
    """Attended sessions of `user` on local days first_day..last_day, oldest first, with hour totals."""
    if first_day > last_day:
        raise Invalid(_("The period must start before it ends."), code="invalid_period", field="first_day")
    start, end = local_days_to_utc(user.timezone, first_day, last_day)
    rows = db.session.scalars(select(Enrolment).join(TrainingSession).where(
        Enrolment.user_id == user.id, Enrolment.status == "attended",
        TrainingSession.start_at >= start, TrainingSession.start_at < end)
        .order_by(TrainingSession.start_at)).all()
    total = sum((row.session.course.academic_hours for row in rows), Decimal(0))
    nmo = sum((row.session.course.academic_hours for row in rows if row.session.course.is_nmo), Decimal(0))
    return LearningRecord(first_day, last_day, rows, total, nmo)


# --- reminders ----------------------------------------------------------------------------

def send_reminders(*, now, ahead=timedelta(hours=24)):
    """Remind enrolled doctors of sessions starting within `ahead`; each enrolment is reminded once.

    Safe on several machines at once: an enrolment is claimed by a conditional UPDATE, and
    only the transaction whose UPDATE changed the row sends that reminder.
    """
    due = db.session.scalars(select(Enrolment).join(TrainingSession).where(
        Enrolment.status == "enrolled", Enrolment.reminded_at.is_(None),
        TrainingSession.status == "scheduled", TrainingSession.start_at > now,
        TrainingSession.start_at <= now + ahead)).all()
    sent = 0
    for enrolment in due:
        claimed = db.session.execute(update(Enrolment).where(
            Enrolment.id == enrolment.id, Enrolment.reminded_at.is_(None)).values(reminded_at=now)).rowcount
        if not claimed:
            continue
        training = enrolment.session
        _tell(enrolment.user, "training_reminder", lambda: (
            _("Reminder: %(title)s", title=training.course.title),
            _("Your training starts on %(when)s in %(room)s (%(location)s).", when=_when(training),
              room=training.room.name, location=training.room.location)))
        sent += 1
    db.session.flush()
    return sent


# --- small shared pieces --------------------------------------------------------------------

def _when(training):
    return format_local(training.start_at, training.room.timezone)


def _tell(user, kind, message):
    """Notify `user` in their own language (not the actor's): `message()` returns (subject, body)."""
    if user is None:
        return
    with in_language_of(user):
        subject, body = message()
    notify(user, kind, subject, body, link=portal_url("training.catalogue"))


def session_minutes(training):
    return int((training.end_at - training.start_at).total_seconds() // 60)
