"""Scheduling sessions (training rules 1 and 2): one session, a weekly series, cancellation."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.booking import changes as booking_changes
from portal.booking import locks as booking_locks
from portal.booking import queries as booking_queries
from portal.clinics.schedule import closures_between, weekly_intervals
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.time import iso, local_to_utc, to_local
from portal.extensions import db
from portal.training.enrolling import active_enrolments, lock_session
from portal.training.models import SESSION_OVERLAP, TrainingSession
from portal.training.notices import tell, when
from portal.training.permissions import (
    can_cancel_bookings_for,
    can_manage_session,
    can_schedule_in_room,
)

MAX_SESSION_MINUTES = 8 * 60


MAX_SERIES_WEEKS = 26


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
        booking_locks.lock_room(room.id, exclusive=True)
        conflicts = booking_queries.active_bookings_overlapping(room.id, start, end)
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
    booking_changes.cancel_booking(actor, booking, now=now, reason=reason)


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
    if training.status == "cancelled":
        raise Conflict(_("This session is already cancelled."), code="session_cancelled")
    if training.status == "completed" or now >= training.start_at:
        raise Conflict(_("A session that has started can no longer be cancelled."), code="session_started")
    training.status = "cancelled"
    training.seats_taken = 0
    affected = active_enrolments(training)
    reason = (reason or "").strip()[:300]
    for enrolment in affected:
        enrolment.status = "cancelled"
        tell(enrolment.user, "training_cancelled", lambda: (
            _("Training cancelled: %(title)s", title=training.course.title),
            _("The session of %(when)s was cancelled.", when=when(training))
            + (" " + _("Reason: %(reason)s", reason=reason) if reason else "")))
    db.session.flush()
    audit.record("training_session_cancelled", actor=actor, clinic_id=training.room.clinic_id, obj=training,
                 details={"reason": reason, "notified": len(affected)})
    return training


def session_minutes(training):
    return int((training.end_at - training.start_at).total_seconds() // 60)
