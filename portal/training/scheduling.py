"""Scheduling sessions (training rules 1 and 2): one session, a weekly series, changes, cancellation.

Every change to where and when a session takes place first takes its room's row lock
(portal.booking.locks.lock_room): shared for a session that uses only its seats, exclusive for one
that takes the whole room, as a closure does. Bookings take it shared, so the checks against
bookings and closures below cannot be overtaken by a booking or a closure made meanwhile.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.booking import changes as booking_changes
from portal.booking import locks as booking_locks
from portal.booking import queries as booking_queries
from portal.clinics.models import Room
from portal.clinics.schedule import closures_between, weekly_intervals
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.time import format_local_span, in_sane_years, iso, local_to_utc, sane_years_message, to_local
from portal.extensions import db
from portal.training.enrolling import (
    active_enrolments,
    lock_session,
    promote_waitlist,
    return_latest_seated_to_waitlist,
)
from portal.training.models import SESSION_OVERLAP, Course, TrainingSession
from portal.training.notices import tell, when
from portal.training.permissions import (
    can_cancel_bookings_for,
    can_manage_session,
    can_run_courses,
    can_schedule_in_room,
)

MAX_SESSION_MINUTES = 8 * 60


MAX_SERIES_WEEKS = 26


def schedule_session(
    actor: User,
    *,
    course: Course,
    room: Room,
    start: datetime,
    end: datetime,
    capacity: int,
    whole_room: bool = False,
    cancel_conflicting_bookings: bool = False,
    now: datetime,
) -> TrainingSession:
    """Schedule one session of `course` in `room` (training rules 1 and 2), run by the course's trainer.

    Refused when the actor may not train in the room's clinic, when the course is cancelled, when the
    time is not ahead, outside the room's opening hours or in a closure, when the seats exceed the
    room's capacity, when another session of the room overlaps (the database decides: 409
    session_overlap), and — for a whole-room session — when active bookings are in the way, unless an
    admin confirms cancelling them; then they are cancelled and their doctors notified.
    """
    if not can_schedule_in_room(actor, room):
        raise NotAllowed(_("You can schedule sessions only in rooms of your own clinic."))
    if not room.is_active:
        raise Conflict(_("This room no longer takes trainings."), code="room_withdrawn", field="room_id")
    if course.clinic_id != room.clinic_id:
        raise Invalid(_("This course belongs to another clinic."), code="invalid_course", field="course_id")
    if course.cancelled_at is not None:
        raise Conflict(
            _("This course is cancelled: it gets no new sessions."), code="course_cancelled", field="course_id"
        )
    booking_locks.lock_room(room.id, exclusive=whole_room)
    _check_times(room, start, end, now)
    _check_capacity(room, capacity)
    conflicts = _bookings_in_the_way(actor, room, start, end, whole_room, cancel_conflicting_bookings)
    training = TrainingSession(
        course_id=course.id,
        room_id=room.id,
        start_at=start,
        end_at=end,
        capacity=capacity,
        whole_room=bool(whole_room),
        status="scheduled",
        trainer_id=course.trainer_id or actor.id,
        created_by_id=actor.id,
        created_at=now,
    )
    _without_overlap(lambda: db.session.add(training))
    # Only now that the session stands are bookings cancelled, so no doctor is told about
    # a cancellation that a refused session would have rolled back.
    _cancel_bookings_for(actor, conflicts, training, now)
    audit.record(
        "training_session_scheduled",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=training,
        details={
            "course_id": course.id,
            "start": iso(start),
            "end": iso(end),
            "whole_room": whole_room,
            "cancelled_bookings": [b.id for b in conflicts],
        },
    )
    return training


def _check_times(room, start, end, now):
    if start is None:
        raise Invalid(_("Enter the start time."), code="invalid_time", field="start")
    if end is None or end <= start:
        raise Invalid(_("The end must be after the start."), code="invalid_time", field="end")
    if not in_sane_years(start):
        raise Invalid(sane_years_message(), code="invalid_time", field="start")
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
        raise Invalid(
            _("The room has only %(n)d seats for trainings.", n=room.capacity),
            code="capacity_exceeds_room",
            field="capacity",
        )


def _bookings_in_the_way(actor, room, start, end, whole_room, confirmed):
    """Training rule 2: the active bookings a whole-room session at [start, end) would cancel.

    Refused with 409 bookings_conflict (the list in details["conflicts"]) unless `confirmed`, which
    only an administrator of the clinic may do. Needs the room's lock, taken exclusive.
    """
    if not whole_room:
        return []
    conflicts = booking_queries.active_bookings_overlapping(room.id, start, end)
    if conflicts and not confirmed:
        raise Conflict(
            _("Active bookings are in the way of a whole-room session. An administrator can confirm cancelling them."),
            code="bookings_conflict",
            field="start",
            details={"conflicts": [booking_queries.describe_booking(b) for b in conflicts]},
        )
    if conflicts and not can_cancel_bookings_for(actor, room):
        raise NotAllowed(
            _("Only an administrator of the clinic can cancel bookings for a session."),
            code="confirmation_requires_admin",
        )
    return conflicts


def _without_overlap(change):
    """Apply `change` to a session in a savepoint: the database refuses two sessions of a room at once."""
    try:
        with db.session.begin_nested():
            change()
            db.session.flush()
    except IntegrityError as error:
        if SESSION_OVERLAP not in str(error.orig):
            raise
        raise Conflict(
            _("Another session in this room overlaps this time."), code="session_overlap", field="start"
        ) from None


def _cancel_bookings_for(actor, bookings, training, now):
    booking_changes.cancel_for_room(
        actor,
        bookings,
        now=now,
        reason=lambda: _("The room is taken by the training “%(title)s”.", title=training.course.title),
    )


@dataclass
class SeriesDate:
    """One date of a recurring series: the session created, or why that date was refused."""

    start: datetime
    end: datetime
    session: TrainingSession | None = None
    error: object = None
    conflicts: list = field(default_factory=list)


def schedule_series(
    actor: User,
    *,
    course: Course,
    room: Room,
    first_start: datetime,
    minutes: int,
    weeks: int,
    capacity: int,
    whole_room: bool = False,
    cancel_conflicting_bookings: bool = False,
    now: datetime,
) -> list[SeriesDate]:
    """A weekly series in one step: every date that fits is scheduled, each refused date says why.

    Dates repeat at the same local wall-clock time (a series keeps its hour across a
    time-zone change). Each date is tried in its own savepoint, so one refusal leaves
    the other dates intact.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_SERIES_WEEKS:
        raise Invalid(
            _("A series repeats for 1 to %(n)d weeks.", n=MAX_SERIES_WEEKS), code="invalid_weeks", field="weeks"
        )
    local_first = to_local(first_start, room.timezone).replace(tzinfo=None)
    results = []
    for week in range(weeks):
        start = local_to_utc(local_first + timedelta(weeks=week), room.timezone)
        item = SeriesDate(start=start, end=start + timedelta(minutes=minutes))
        try:
            with db.session.begin_nested():
                item.session = schedule_session(
                    actor,
                    course=course,
                    room=room,
                    start=item.start,
                    end=item.end,
                    capacity=capacity,
                    whole_room=whole_room,
                    cancel_conflicting_bookings=cancel_conflicting_bookings,
                    now=now,
                )
        except (Invalid, Conflict, NotAllowed) as error:
            item.error = error
            item.conflicts = error.details.get("conflicts", [])
        results.append(item)
    return results


@dataclass
class SessionChange:
    """What changing a session did besides the session itself."""

    session: TrainingSession
    moved_to_waitlist: list = field(default_factory=list)
    promoted: list = field(default_factory=list)
    cancelled_bookings: list = field(default_factory=list)


def update_session(
    actor: User,
    training: TrainingSession,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    room: Room | None = None,
    capacity: int | None = None,
    trainer: User | None = None,
    move_to_waitlist: bool = False,
    cancel_conflicting_bookings: bool = False,
    now: datetime,
) -> SessionChange:
    """Move a session that has not started, change its seats or its trainer (None keeps a value).

    A new time or room passes every check of scheduling: opening hours, closures, the room's seats,
    no other session of the room at once (the database), and for a whole-room session the bookings
    in the way (an administrator confirms cancelling them). Seats never drop below the doctors
    enrolled unless `move_to_waitlist` says so: then the doctors seated last go back to the head
    of the waitlist (409 capacity_below_enrolled otherwise); more seats go to the waitlist at once.
    Everyone enrolled or waitlisted is told of a new time, room or trainer; the new trainer too.
    """
    if not can_manage_session(actor, training):
        raise NotAllowed(_("Only trainers and administrators of this clinic can change sessions."))
    old_room = training.room
    room = room or old_room
    if room.clinic_id != old_room.clinic_id or not can_schedule_in_room(actor, room):
        raise Invalid(_("Choose a room of this session's clinic."), code="invalid_room", field="room_id")
    if (start, end, room) != (None, None, old_room):
        # The room before the session, in the order a closure takes them (room, then its sessions).
        booking_locks.lock_room(room.id, exclusive=training.whole_room)
    training = lock_session(training)
    _require_ahead(training, now)
    before = {
        "start": training.start_at,
        "end": training.end_at,
        "room": old_room,
        "trainer": training.trainer,
        "capacity": training.capacity,
    }
    start, end = start or training.start_at, end or training.end_at
    capacity = training.capacity if capacity is None else capacity
    trainer = trainer or training.trainer
    moved = (start, end, room.id) != (training.start_at, training.end_at, training.room_id)
    if trainer is not before["trainer"] and not (trainer.active and can_run_courses(trainer, room.clinic_id)):
        raise Invalid(_("Choose a trainer of this clinic."), code="invalid_trainer", field="trainer_id")
    conflicts = []
    if moved:
        _check_times(room, start, end, now)
        conflicts = _bookings_in_the_way(actor, room, start, end, training.whole_room, cancel_conflicting_bookings)
    _check_capacity(room, capacity)
    if capacity < training.seats_taken and not move_to_waitlist:
        raise Conflict(
            _(
                "%(enrolled)d doctors are enrolled, more than %(seats)d seats. Choose to return the "
                "doctors seated last to the waitlist, or keep more seats.",
                enrolled=training.seats_taken,
                seats=capacity,
            ),
            code="capacity_below_enrolled",
            field="capacity",
            details={"enrolled": training.seats_taken},
        )

    def move():
        training.start_at, training.end_at, training.room_id = start, end, room.id
        training.room = room

    if moved:
        _without_overlap(move)
        if start != before["start"]:
            for enrolment in active_enrolments(training):
                enrolment.reminded_at = None  # the reminder is due again, for the new time
    training.trainer = trainer
    change = SessionChange(training)
    if capacity < training.seats_taken:
        change.moved_to_waitlist = return_latest_seated_to_waitlist(training, training.seats_taken - capacity)
    training.capacity = capacity
    db.session.flush()
    change.promoted = promote_waitlist(training, now=now)
    _cancel_bookings_for(actor, conflicts, training, now)
    change.cancelled_bookings = conflicts
    if moved or trainer is not before["trainer"]:
        _tell_about_change(training, before)
    audit.record(
        "training_session_updated",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=training,
        details={
            "before": _audited(before),
            "after": _audited(
                {
                    "start": training.start_at,
                    "end": training.end_at,
                    "room": room,
                    "trainer": trainer,
                    "capacity": capacity,
                }
            ),
            "moved_to_waitlist": [e.user_id for e in change.moved_to_waitlist],
            "promoted": [e.user_id for e in change.promoted],
            "cancelled_bookings": [b.id for b in conflicts],
        },
    )
    return change


def _require_ahead(training, now):
    if training.status == "cancelled":
        raise Conflict(_("This session is already cancelled."), code="session_cancelled")
    if training.status != "scheduled" or now >= training.start_at:
        raise Conflict(_("A session that has started can no longer be changed."), code="session_started")


def _audited(values):
    return {
        "start": iso(values["start"]),
        "end": iso(values["end"]),
        "room_id": values["room"].id,
        "trainer_id": getattr(values["trainer"], "id", None),
        "capacity": values["capacity"],
    }


def _tell_about_change(training, before):
    """Everyone enrolled or waiting hears the session's new time, room and trainer; a new trainer hears too."""

    def message():
        lines = [
            _(
                "Now: %(when)s, %(room)s.",
                when=format_local_span(training.start_at, training.end_at, training.room.timezone),
                room=training.room.name,
            )
        ]
        if training.trainer is not None:
            lines.append(_("Trainer: %(name)s.", name=training.trainer.full_name))
        return (_("Training changed: %(title)s", title=training.course.title), " ".join(lines))

    for enrolment in active_enrolments(training):
        tell(enrolment.user, "training_changed", message)
    if training.trainer is not before["trainer"]:
        tell(
            training.trainer,
            "training_changed",
            lambda: (
                _("You run a session: %(title)s", title=training.course.title),
                _(
                    "A colleague handed you the session of %(when)s in %(room)s.",
                    when=when(training),
                    room=training.room.name,
                ),
            ),
        )


def cancel_session(
    actor: User | None, training: TrainingSession, *, reason: str = "", now: datetime
) -> TrainingSession:
    """Cancel a session that has not started; everyone enrolled or waitlisted is notified.

    `actor` None is the system: a room withdrawn, or a closure added from the command line.
    """
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
        tell(
            enrolment.user,
            "training_cancelled",
            lambda: (
                _("Training cancelled: %(title)s", title=training.course.title),
                _("The session of %(when)s was cancelled.", when=when(training))
                + (" " + _("Reason: %(reason)s", reason=reason) if reason else ""),
            ),
        )
    db.session.flush()
    audit.record(
        "training_session_cancelled",
        actor=actor,
        clinic_id=training.room.clinic_id,
        obj=training,
        details={"reason": reason, "notified": len(affected)},
    )
    return training


def describe_session(training: TrainingSession) -> dict[str, Any]:
    """A session in a closure's way, as the clinic's administrators see it."""
    timezone = training.room.timezone
    return {
        "kind": "training",
        "id": training.id,
        "title": training.course.title,
        "start": iso(training.start_at, timezone),
        "end": iso(training.end_at, timezone),
        "trainer": training.trainer.full_name if training.trainer else None,
        "enrolled": training.seats_taken,
    }


def sessions_under_closure(
    room: Room, *, start: datetime, end: datetime, reason: str, actor: User | None, now: datetime, cancel: bool
) -> list[dict[str, Any]]:
    """The room's scheduled sessions a closure [start, end) covers and that have not ended.

    Connected to portal.clinics.signals.closure_planned. Sessions are placed under the room's lock,
    taken here exclusive, so none can be added between this look and the closure's insert. With
    `cancel` each is cancelled: its participants are told the closure's reason, its trainer too.
    """
    booking_locks.lock_room(room.id, exclusive=True)
    sessions = db.session.scalars(
        select(TrainingSession)
        .where(
            TrainingSession.room_id == room.id,
            TrainingSession.status == "scheduled",
            TrainingSession.start_at < end,
            TrainingSession.end_at > max(start, now),
        )
        .order_by(TrainingSession.start_at)
    ).all()
    if cancel:
        for training in sessions:
            cancel_session(actor, training, reason=reason, now=now)
            tell(
                training.trainer,
                "training_cancelled",
                lambda training=training: (
                    _("Your session is cancelled: %(title)s", title=training.course.title),
                    _(
                        "The session of %(when)s was cancelled: the room is closed (%(reason)s).",
                        when=when(training),
                        reason=reason,
                    ),
                ),
            )
    return [describe_session(training) for training in sessions]
