"""Creating a booking (SPEC section 3, booking rules 1–6) and the ways out when one is refused.

Exactness under concurrency, in layers:
- the database refuses overlapping active bookings per workstation and per
  doctor (exclusion constraints on PostgreSQL, triggers on SQLite — see
  models.py); the insert runs in a SAVEPOINT and a refusal becomes a 409;
- a doctor's own booking attempts are serialised by a lock on their user row,
  so quota counts cannot be raced past (portal.booking.locks);
- a booking takes a shared lock on its room, a new whole-room training an
  exclusive one, so a booking and a training can never slip past each other.
SQLite has one writer at a time (every transaction begins IMMEDIATE), which
gives the same guarantees there; the row locks are PostgreSQL-only.
"""

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.booking import notices
from portal.booking.availability import grid_ceil, load_room_state, local_day_range, on_grid, overlaps
from portal.booking.locks import lock_room, lock_user
from portal.booking.models import ACTIVE_STATUSES, USER_OVERLAP, WORKSTATION_OVERLAP, Booking
from portal.booking.permissions import can_book_for
from portal.clinics.models import Room, Workstation
from portal.clinics.schedule import next_opening
from portal.core import audit, transaction
from portal.core.errors import Conflict, DomainError, NotAllowed
from portal.core.time import iso, to_local
from portal.extensions import db

# Statuses that use up a doctor's daily minutes (a no-show or a cancellation gives them back).
DAILY_QUOTA_STATUSES = ("booked", "checked_in", "completed")
ALTERNATIVES_LIMIT = 4


def create_booking(
    actor: User, *, workstation: Workstation, start: datetime, end: datetime, now: datetime, user: User | None = None
) -> Booking:
    """Book `workstation` for [start, end) for `user` (default: the actor) or refuse with the rule broken.

    Refusals: 403 not_your_clinic / not_a_doctor (rule 1); 409 off_grid,
    too_short, too_long, in_past, beyond_horizon, outside_hours, closed
    (rule 2), workstation_unavailable (3), overlaps_own_booking and slot_taken
    (4, enforced by the database), quota_exceeded (5), training_in_room (6).
    A 409 that has a way out carries `alternatives` in its details. A refusal
    is audited even though the attempt rolls back: the usage report counts them.
    """
    try:
        return _create_booking(actor, workstation, start, end, now, user or actor)
    except (NotAllowed, Conflict) as error:
        _keep_refusal(actor, error, room_id=workstation.room_id, workstation_id=workstation.id, start=start, end=end)
        raise


def _create_booking(actor, workstation, start, end, now, owner):
    room = workstation.room
    _check_who(actor, owner, room)
    if not room.is_active:
        raise Conflict(_("This room no longer takes bookings."), code="room_withdrawn", field="workstation_id")
    if not workstation.is_active:
        raise Conflict(
            _("This workstation is out of service. Please choose another one."),
            code="workstation_unavailable",
            field="workstation_id",
        )
    _check_times(room, start, end, now)

    lock_user(owner.id)
    lock_room(room.id, exclusive=False)
    state = load_room_state(room, start, end)
    if not state.in_opening_hours(start, end):
        raise Conflict(_("The room is not open for the whole of this time."), code="outside_hours", field="start")
    if overlaps(start, end, [(s, e) for s, e, _reason in state.closures]):
        raise _with_alternatives(
            Conflict(_("The room is closed at this time."), code="closed", field="start"),
            owner,
            workstation,
            start,
            end,
            now,
        )
    if overlaps(start, end, state.whole_room_sessions):
        raise _with_alternatives(
            Conflict(_("A training takes the whole room at this time."), code="training_in_room", field="start"),
            owner,
            workstation,
            start,
            end,
            now,
        )
    if overlaps(start, end, own_active_bookings(owner.id, start, end)):
        raise _overlaps_own_error()
    if overlaps(start, end, [(b.start, b.end) for b in state.bookings_of(workstation.id)]):
        raise _with_alternatives(_slot_taken_error(), owner, workstation, start, end, now)
    _check_quotas(owner, workstation, start, end, now)

    booking = Booking(
        user_id=owner.id,
        workstation_id=workstation.id,
        room_id=room.id,
        start_at=start,
        end_at=end,
        status="booked",
        created_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except IntegrityError as error:
        # Lost a race the checks above could not see: the database itself refused the overlap.
        if violated_overlap_rule(error) == "overlaps_own_booking":
            raise _overlaps_own_error() from None
        raise _with_alternatives(_slot_taken_error(), owner, workstation, start, end, now) from None
    audit.record(
        "booking_created",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=booking,
        details={"user_id": owner.id, "workstation_id": workstation.id, "start": iso(start), "end": iso(end)},
    )
    notices.booking_confirmed(booking)
    return booking


def book_now(actor: User, room: Room, *, minutes: int, now: datetime) -> Booking:
    """ "Book now": the first workstation free from the next grid line for `minutes`, by label.

    Someone quicker may take a free workstation between the look and the
    insert; the next one is tried. Refuses with `no_free_workstation` when none is left,
    and with `room_closed`, saying when it opens, when the room is closed at the next grid line.
    """
    start = grid_ceil(now, room)
    opens_at = next_opening(room, start)
    if opens_at != start:
        raise Conflict(notices.room_closed_message(room, opens_at, now), code="room_closed")
    end = start + timedelta(minutes=minutes)
    for workstation_id in next_free_workstations(actor, room, start, end, now):
        try:
            return create_booking(
                actor, workstation=db.session.get(Workstation, workstation_id), start=start, end=end, now=now
            )
        except Conflict as error:
            if error.code != "slot_taken":
                raise
    refusal = Conflict(
        _("No workstation is free for the next %(n)d minutes. Pick a later time in the schedule.", n=minutes),
        code="no_free_workstation",
    )
    # The city's view counts it: a doctor who wanted a computer and found none.
    _keep_refusal(actor, refusal, room_id=room.id, workstation_id=None, start=start, end=end)
    raise refusal


def _check_who(actor, owner, room):
    """Rule 1: the owner is a doctor of the room's clinic; someone else may book only as its admin."""
    if owner.clinic_id != room.clinic_id:
        raise NotAllowed(_("You can only book workstations of your own clinic."), code="not_your_clinic")
    if not owner.has_role("doctor", "trainer"):
        raise NotAllowed(_("Only doctors can book workstations."), code="not_a_doctor")
    if not can_book_for(actor, owner, room):
        raise NotAllowed(_("Only an administrator of this clinic can book for someone else."), code="not_your_clinic")


def _check_times(room, start, end, now):
    """Rule 2 without the database: grid, length, past and horizon."""
    if not (on_grid(start, room) and on_grid(end, room)):
        raise Conflict(
            _("Bookings start and end on the %(n)d-minute grid (e.g. 10:00, 10:%(n)02d).", n=room.slot_minutes),
            code="off_grid",
            field="start",
        )
    minutes = (end - start).total_seconds() / 60
    if minutes < room.min_minutes:
        raise Conflict(_("A booking lasts at least %(n)d minutes.", n=room.min_minutes), code="too_short", field="end")
    if minutes > room.max_minutes:
        raise Conflict(_("A booking lasts at most %(n)d minutes.", n=room.max_minutes), code="too_long", field="end")
    if start < now:
        raise Conflict(_("This time has already begun or passed."), code="in_past", field="start")
    if end > now + timedelta(days=room.horizon_days):
        raise Conflict(
            _("You can book at most %(n)d days ahead.", n=room.horizon_days), code="beyond_horizon", field="start"
        )


def own_active_bookings(user_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of the user's active bookings overlapping [start, end)."""
    query = select(Booking.start_at, Booking.end_at).where(
        Booking.user_id == user_id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > start, Booking.start_at < end
    )
    return [tuple(row) for row in db.session.execute(query)]


def _check_quotas(owner, workstation, start, end, now):
    """Rule 5, counted under the owner's row lock: active future bookings, and minutes per local day."""
    room = workstation.room
    active = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.user_id == owner.id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now)
    )
    if active >= room.max_active:
        raise Conflict(
            _(
                "You already have %(n)d upcoming bookings, the most allowed. Cancel one to book another.",
                n=room.max_active,
            ),
            code="quota_exceeded",
            details={"quota": "max_active", "alternatives": []},
        )
    day_start, day_end = local_day_range(room, to_local(start, room.timezone).date())
    used = sum(
        (e - s).total_seconds() / 60
        for s, e in db.session.execute(
            select(Booking.start_at, Booking.end_at).where(
                Booking.user_id == owner.id,
                Booking.status.in_(DAILY_QUOTA_STATUSES),
                Booking.start_at >= day_start,
                Booking.start_at < day_end,
            )
        )
    )
    wanted = (end - start).total_seconds() / 60
    if used + wanted > room.max_daily_minutes:
        left = int(room.max_daily_minutes - used) // room.slot_minutes * room.slot_minutes
        alternatives = []
        if left >= room.min_minutes:
            alternatives.append(
                alternative(workstation.id, workstation.label, start, start + timedelta(minutes=left), room.timezone)
            )
        raise Conflict(
            _(
                "You can book at most %(n)d minutes a day; %(left)d are left for this day.",
                n=room.max_daily_minutes,
                left=max(left, 0),
            ),
            code="quota_exceeded",
            details={"quota": "max_daily_minutes", "alternatives": alternatives},
        )


def violated_overlap_rule(error: IntegrityError) -> str:
    """Which overlap rule the database enforced (psycopg names the constraint; SQLite's trigger message
    does); any other integrity error is re-raised."""
    text = getattr(getattr(error.orig, "diag", None), "constraint_name", None) or str(error.orig)
    if USER_OVERLAP in text:
        return "overlaps_own_booking"
    if WORKSTATION_OVERLAP in text:
        return "slot_taken"
    raise error


def _slot_taken_error():
    return Conflict(
        _("This workstation is already booked for part of this time."), code="slot_taken", field="workstation_id"
    )


def _overlaps_own_error():
    return Conflict(_("You already have a booking at this time."), code="overlaps_own_booking", field="start")


def _keep_refusal(actor, error: DomainError, *, room_id, workstation_id, start, end):
    """Audit a refused attempt in a write that outlives the attempt's rollback."""
    actor_id = actor.id

    def record():
        room = db.session.get(Room, room_id)
        audit.record(
            "booking_refused",
            actor=db.session.get(User, actor_id),
            clinic_id=room.clinic_id,
            details={"code": error.code, "workstation_id": workstation_id, "start": iso(start), "end": iso(end)},
        )

    transaction.keep_whatever_happens(record)


# --- alternatives -------------------------------------------------------------------------


def alternative(workstation_id: int, label: str, start: datetime, end: datetime, tz: str) -> dict[str, Any]:
    return {"workstation_id": workstation_id, "workstation_label": label, "start": iso(start, tz), "end": iso(end, tz)}


def _with_alternatives(error, owner, workstation, start, end, now):
    error.details["alternatives"] = suggest_alternatives(owner, workstation, start, end, now)
    return error


def suggest_alternatives(
    owner: User,
    workstation: Workstation,
    start: datetime,
    end: datetime,
    now: datetime,
    limit: int = ALTERNATIVES_LIMIT,
) -> list[dict[str, Any]]:
    """The nearest ways out: other workstations free at the same time, then this one's next free time.

    Only times the owner could really book (not overlapping their own bookings);
    the search looks no further than the booking horizon.
    """
    room = workstation.room
    length = end - start
    horizon_end = now + timedelta(days=room.horizon_days)
    if start >= horizon_end:
        return []
    state = load_room_state(room, min(start, horizon_end), horizon_end)
    own = own_active_bookings(owner.id, start, horizon_end)
    found = []
    if not overlaps(start, end, own):
        for workstation_id, label, status in state.workstations:
            if (
                workstation_id != workstation.id
                and status == "active"
                and any(s <= start and end <= e for s, e in state.free(workstation_id, now))
            ):
                found.append(alternative(workstation_id, label, start, end, room.timezone))
    if workstation.is_active:
        next_start = _next_fit(state.free(workstation.id, now, extra_blocks=own), start, length)
        if next_start is not None:
            found.append(alternative(workstation.id, workstation.label, next_start, next_start + length, room.timezone))
    return found[:limit]


def _next_fit(free, not_before, length):
    for start, end in free:
        start = max(start, not_before)
        if end - start >= length:
            return start
    return None


def next_free_workstations(owner: User, room: Room, start: datetime, end: datetime, now: datetime) -> list[int]:
    """Ids of active workstations free for all of [start, end), by label: candidates for "book now"."""
    state = load_room_state(room, start, end)
    if overlaps(start, end, own_active_bookings(owner.id, start, end)):
        return []
    return [
        workstation_id
        for workstation_id, _label, status in state.workstations
        if status == "active" and any(s <= start and end <= e for s, e in state.free(workstation_id, now))
    ]
