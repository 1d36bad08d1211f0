"""Booking rules (SPEC section 3, booking rules 1–8).

Plain functions taking an explicit `actor` and `now`; they raise
portal.core.errors and only flush — the web view, the API or the CLI commits
once (or rolls back).

Exactness under concurrency, in layers:
- the database refuses overlapping active bookings per workstation and per
  doctor (exclusion constraints on PostgreSQL, triggers on SQLite — see
  models.py); the insert runs in a SAVEPOINT and a refusal becomes a 409;
- a doctor's own booking attempts are serialised by a lock on their user row,
  so quota counts cannot be raced past;
- a booking takes a shared lock on its room, a new whole-room training an
  exclusive one, so a booking and a training can never slip past each other.
SQLite has one writer at a time (every transaction begins IMMEDIATE), which
gives the same guarantees there; the row locks are PostgreSQL-only.
"""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User, hash_secret, new_secret
from portal.booking import cache, notices
from portal.booking.availability import load_room_state, local_day_range, on_grid, overlaps
from portal.booking.models import ACTIVE_STATUSES, USER_OVERLAP, WORKSTATION_OVERLAP, Booking
from portal.booking.permissions import can_administer_room, can_book_for, can_manage_booking
from portal.clinics.models import Room, Workstation
from portal.core import audit
from portal.core.errors import Conflict, NotAllowed
from portal.core.time import iso, to_local
from portal.extensions import db

CHECKIN_OPENS_BEFORE = timedelta(minutes=10)
# Statuses that use up a doctor's daily minutes (a no-show or a cancellation gives them back).
DAILY_QUOTA_STATUSES = ("booked", "checked_in", "completed")
ALTERNATIVES_LIMIT = 4


# --- locks -------------------------------------------------------------------------------

def _is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def lock_room(room_id, exclusive):
    """Lock a room's row until the transaction ends, to order bookings against whole-room trainings.

    A booking takes it shared (`exclusive=False`): bookings of one room still
    run side by side. Creating a whole-room training takes it exclusive: it
    waits for bookings in flight and they wait for it, so each sees the other
    when it checks for overlaps. PostgreSQL only; SQLite already admits one
    writer at a time.
    """
    if _is_postgresql():
        db.session.execute(select(Room.id).where(Room.id == room_id).with_for_update(read=not exclusive))


def _lock_user(user_id):
    """Serialise one doctor's booking attempts, so counting towards a quota and inserting are atomic.

    FOR NO KEY UPDATE, not FOR UPDATE: rows that merely reference the user
    (a notification, an audit entry) written by other transactions must not wait.
    """
    if _is_postgresql():
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


# --- creating -----------------------------------------------------------------------------

def create_booking(actor, *, workstation, start, end, now, user=None):
    """Book `workstation` for [start, end) for `user` (default: the actor) or refuse with the rule broken.

    Refusals: 403 not_your_clinic / not_a_doctor (rule 1); 409 off_grid,
    too_short, too_long, in_past, beyond_horizon, outside_hours, closed
    (rule 2), workstation_unavailable (3), overlaps_own_booking and slot_taken
    (4, enforced by the database), quota_exceeded (5), training_in_room (6).
    A 409 that has a way out carries `alternatives` in its details.
    """
    owner = user or actor
    room = workstation.room
    _check_who(actor, owner, room)
    if not room.is_active:
        raise Conflict(_("This room no longer takes bookings."), code="room_withdrawn", field="workstation_id")
    if not workstation.is_active:
        raise Conflict(_("This workstation is out of service. Please choose another one."),
                       code="workstation_unavailable", field="workstation_id")
    _check_times(room, start, end, now)

    _lock_user(owner.id)
    lock_room(room.id, exclusive=False)
    state = load_room_state(room, start, end)
    if not state.in_opening_hours(start, end):
        raise Conflict(_("The room is not open for the whole of this time."), code="outside_hours", field="start")
    if overlaps(start, end, [(s, e) for s, e, _reason in state.closures]):
        raise _with_alternatives(Conflict(_("The room is closed at this time."), code="closed", field="start"),
                                 owner, workstation, start, end, now)
    if overlaps(start, end, state.whole_room_sessions):
        raise _with_alternatives(
            Conflict(_("A training takes the whole room at this time."), code="training_in_room", field="start"),
            owner, workstation, start, end, now)
    if overlaps(start, end, _own_active_bookings(owner.id, start, end)):
        raise _overlaps_own_error()
    if overlaps(start, end, [(b.start, b.end) for b in state.bookings_of(workstation.id)]):
        raise _with_alternatives(_slot_taken_error(), owner, workstation, start, end, now)
    _check_quotas(owner, workstation, start, end, now)

    booking = Booking(user_id=owner.id, workstation_id=workstation.id, room_id=room.id, start_at=start,
                      end_at=end, status="booked", created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except IntegrityError as error:
        # Lost a race the checks above could not see: the database itself refused the overlap.
        rule = _violated_rule(error)
        if rule == "overlaps_own_booking":
            raise _overlaps_own_error() from None
        raise _with_alternatives(_slot_taken_error(), owner, workstation, start, end, now) from None
    audit.record("booking_created", actor=actor, clinic_id=room.clinic_id, obj=booking,
                 details={"user_id": owner.id, "workstation_id": workstation.id,
                          "start": iso(start), "end": iso(end)})
    notices.booking_confirmed(booking)
    return booking


def _check_who(actor, owner, room):
    """Rule 1: the owner is a doctor of the room's clinic; someone else may book only as its admin."""
    if owner.clinic_id != room.clinic_id:
        raise NotAllowed(_("You can only book workstations of your own clinic."), code="not_your_clinic")
    if not owner.has_role("doctor", "trainer"):
        raise NotAllowed(_("Only doctors can book workstations."), code="not_a_doctor")
    if not can_book_for(actor, owner, room):
        raise NotAllowed(_("Only an administrator of this clinic can book for someone else."),
                         code="not_your_clinic")


def _check_times(room, start, end, now):
    """Rule 2 without the database: grid, length, past and horizon."""
    if not (on_grid(start, room) and on_grid(end, room)):
        raise Conflict(_("Bookings start and end on the %(n)d-minute grid (e.g. 10:00, 10:%(n)02d).",
                         n=room.slot_minutes), code="off_grid", field="start")
    minutes = (end - start).total_seconds() / 60
    if minutes < room.min_minutes:
        raise Conflict(_("A booking lasts at least %(n)d minutes.", n=room.min_minutes),
                       code="too_short", field="end")
    if minutes > room.max_minutes:
        raise Conflict(_("A booking lasts at most %(n)d minutes.", n=room.max_minutes),
                       code="too_long", field="end")
    if start < now:
        raise Conflict(_("This time has already begun or passed."), code="in_past", field="start")
    if end > now + timedelta(days=room.horizon_days):
        raise Conflict(_("You can book at most %(n)d days ahead.", n=room.horizon_days),
                       code="beyond_horizon", field="start")


def _own_active_bookings(user_id, start, end, exclude_id=None):
    query = select(Booking.start_at, Booking.end_at).where(
        Booking.user_id == user_id, Booking.status.in_(ACTIVE_STATUSES),
        Booking.end_at > start, Booking.start_at < end)
    if exclude_id is not None:
        query = query.where(Booking.id != exclude_id)
    return [tuple(row) for row in db.session.execute(query)]


def _check_quotas(owner, workstation, start, end, now):
    """Rule 5, counted under the owner's row lock: active future bookings, and minutes per local day."""
    room = workstation.room
    active = db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.user_id == owner.id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now))
    if active >= room.max_active:
        raise Conflict(_("You already have %(n)d upcoming bookings, the most allowed. "
                         "Cancel one to book another.", n=room.max_active),
                       code="quota_exceeded", details={"quota": "max_active", "alternatives": []})
    day_start, day_end = local_day_range(room, to_local(start, room.timezone).date())
    used = sum((e - s).total_seconds() / 60 for s, e in db.session.execute(
        select(Booking.start_at, Booking.end_at).where(
            Booking.user_id == owner.id, Booking.status.in_(DAILY_QUOTA_STATUSES),
            Booking.start_at >= day_start, Booking.start_at < day_end)))
    wanted = (end - start).total_seconds() / 60
    if used + wanted > room.max_daily_minutes:
        left = int(room.max_daily_minutes - used) // room.slot_minutes * room.slot_minutes
        alternatives = []
        if left >= room.min_minutes:
            alternatives.append(alternative(workstation.id, workstation.label, start,
                                            start + timedelta(minutes=left), room.timezone))
        raise Conflict(_("You can book at most %(n)d minutes a day; %(left)d are left for this day.",
                         n=room.max_daily_minutes, left=max(left, 0)),
                       code="quota_exceeded", details={"quota": "max_daily_minutes", "alternatives": alternatives})


def _violated_rule(error):
    """Which overlap rule the database enforced (psycopg names the constraint; SQLite's trigger message does)."""
    text = getattr(getattr(error.orig, "diag", None), "constraint_name", None) or str(error.orig)
    if USER_OVERLAP in text:
        return "overlaps_own_booking"
    if WORKSTATION_OVERLAP in text:
        return "slot_taken"
    raise error


def _slot_taken_error():
    return Conflict(_("This workstation is already booked for part of this time."),
                    code="slot_taken", field="workstation_id")


def _overlaps_own_error():
    return Conflict(_("You already have a booking at this time."), code="overlaps_own_booking", field="start")


# --- alternatives -------------------------------------------------------------------------

def alternative(workstation_id, label, start, end, tz):
    return {"workstation_id": workstation_id, "workstation_label": label,
            "start": iso(start, tz), "end": iso(end, tz)}


def _with_alternatives(error, owner, workstation, start, end, now):
    error.details["alternatives"] = suggest_alternatives(owner, workstation, start, end, now)
    return error


def suggest_alternatives(owner, workstation, start, end, now, limit=ALTERNATIVES_LIMIT):
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
    own = _own_active_bookings(owner.id, start, horizon_end)
    found = []
    if not overlaps(start, end, own):
        for workstation_id, label, status in state.workstations:
            if workstation_id != workstation.id and status == "active" and any(
                    s <= start and end <= e for s, e in state.free(workstation_id, now)):
                found.append(alternative(workstation_id, label, start, end, room.timezone))
    if workstation.is_active:
        next_start = _next_fit(state.free(workstation.id, now, extra_blocks=own), start, length)
        if next_start is not None:
            found.append(alternative(workstation.id, workstation.label, next_start, next_start + length,
                                     room.timezone))
    return found[:limit]


def _next_fit(free, not_before, length):
    for start, end in free:
        start = max(start, not_before)
        if end - start >= length:
            return start
    return None


def next_free_workstation(owner, room, start, end, now):
    """Active workstations free for all of [start, end), by label: candidates for "book now"."""
    state = load_room_state(room, start, end)
    if overlaps(start, end, _own_active_bookings(owner.id, start, end)):
        return []
    return [workstation_id for workstation_id, _label, status in state.workstations
            if status == "active" and any(s <= start and end <= e for s, e in state.free(workstation_id, now))]


# --- changing a booking -------------------------------------------------------------------

def _transition(booking, from_statuses, **values):
    """One guarded UPDATE: applies only if the booking is still in `from_statuses`.

    A concurrent job or request that changed the status first makes this a
    no-op (False) instead of overwriting its decision.
    """
    result = db.session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status.in_(from_statuses)).values(**values)
        .execution_options(**cache.rooms_option({booking.room_id})))
    if result.rowcount != 1:
        db.session.refresh(booking)
        return False
    return True


def cancel_booking(actor, booking, *, now, reason=None, notify_owner=True):
    """Cancel an active booking: its owner until it starts; an admin of its clinic until it ends.

    `actor` None is the system (command line). Records who and why, audits,
    and tells the owner when someone else cancelled (unless the caller sends
    its own, more specific notice: `notify_owner=False`).
    """
    if actor is not None and not can_manage_booking(actor, booking):
        raise NotAllowed(_("You can only cancel your own bookings."), code="forbidden")
    is_admin_action = actor is None or actor.id != booking.user_id
    if not booking.is_active or booking.end_at <= now:
        raise Conflict(_("This booking is no longer active."), code="not_active")
    if not is_admin_action and booking.start_at <= now:
        raise Conflict(_("A booking can only be cancelled before it starts."), code="cancel_too_late")
    _cancel(actor, booking, now=now, reason=reason)
    if is_admin_action and notify_owner:
        notices.booking_cancelled(booking, booking.cancel_reason)
    return booking


def _cancel(actor, booking, *, now, reason):
    reason = (str(reason or "")).strip()[:300] or None
    if not _transition(booking, ACTIVE_STATUSES, status="cancelled", cancelled_at=now,
                       cancelled_by_id=getattr(actor, "id", None), cancel_reason=reason):
        raise Conflict(_("This booking is no longer active."), code="not_active")
    audit.record("booking_cancelled", actor=actor, clinic_id=booking.room.clinic_id, obj=booking,
                 details={"reason": reason, "user_id": booking.user_id})


def check_in(actor, booking, *, now):
    """Rule 7: check in from 10 minutes before the start until the room's grace period ends."""
    if not can_manage_booking(actor, booking):
        raise NotAllowed(_("You can only check in to your own bookings."), code="forbidden")
    if booking.status == "checked_in":
        raise Conflict(_("You have already checked in."), code="already_checked_in")
    if booking.status != "booked":
        raise Conflict(_("This booking is no longer active."), code="not_active")
    opens, closes = checkin_window(booking)
    if now < opens:
        raise Conflict(_("Check-in opens 10 minutes before the start."), code="checkin_not_open")
    if now >= closes:
        raise Conflict(_("The check-in time for this booking has passed."), code="checkin_closed")
    if not _transition(booking, ("booked",), status="checked_in", checked_in_at=now):
        raise Conflict(_("The check-in time for this booking has passed."), code="checkin_closed")
    audit.record("booking_checked_in", actor=actor, clinic_id=booking.room.clinic_id, obj=booking)
    return booking


def checkin_window(booking):
    grace = timedelta(minutes=booking.room.checkin_grace_minutes)
    return booking.start_at - CHECKIN_OPENS_BEFORE, booking.start_at + grace


def can_check_in_now(booking, now):
    opens, closes = checkin_window(booking)
    return booking.status == "booked" and opens <= now < closes


# --- the periodic jobs --------------------------------------------------------------------

def release_no_shows(*, now):
    """Rule 7's second half: bookings not checked in by the end of the grace become `no_show`.

    One guarded UPDATE per grace length claims the rows (`status = 'booked'`
    is re-checked under the row lock), so two machines running the job at
    once release each booking exactly once and notify once. Checked-in
    bookings that have ended become `completed`. Returns the released bookings.
    """
    released_ids = []
    graces = db.session.scalars(select(Room.checkin_grace_minutes).distinct()).all()
    for grace in graces:
        rooms_with_grace = select(Room.id).where(Room.checkin_grace_minutes == grace)
        rows = db.session.execute(
            update(Booking).where(Booking.status == "booked", Booking.start_at <= now - timedelta(minutes=grace),
                                  Booking.room_id.in_(rooms_with_grace))
            .values(status="no_show").returning(Booking.id, Booking.room_id)
            .execution_options(synchronize_session=False, **cache.rooms_option(()))).all()
        released_ids += [row.id for row in rows]
        cache.mark_rooms_changed(db.session, {row.room_id for row in rows})
    db.session.execute(
        update(Booking).where(Booking.status == "checked_in", Booking.end_at <= now).values(status="completed")
        .execution_options(synchronize_session=False, **cache.rooms_option(())))
    released = db.session.scalars(select(Booking).where(Booking.id.in_(released_ids))
                                  .order_by(Booking.start_at)).all() if released_ids else []
    for booking in released:
        audit.record("booking_no_show", clinic_id=booking.room.clinic_id, obj=booking,
                     details={"user_id": booking.user_id})
        notices.no_show_released(booking)
    return released


def send_reminders(*, now, lead_minutes=60):
    """Remind doctors of bookings starting within `lead_minutes`, each booking once (guarded UPDATE)."""
    rows = db.session.execute(
        update(Booking).where(Booking.status == "booked", Booking.reminder_sent_at.is_(None),
                              Booking.start_at > now, Booking.start_at <= now + timedelta(minutes=lead_minutes))
        .values(reminder_sent_at=now).returning(Booking.id)
        .execution_options(synchronize_session=False, **cache.rooms_option(()))).all()
    reminded = db.session.scalars(select(Booking).where(Booking.id.in_([row.id for row in rows]))
                                  .order_by(Booking.start_at)).all() if rows else []
    for booking in reminded:
        notices.reminder(booking)
    return reminded


def no_show_counts(user_ids):
    """How many no-shows each doctor has (admins see it next to their bookings)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Booking.user_id, func.count()).where(Booking.user_id.in_(user_ids), Booking.status == "no_show")
        .group_by(Booking.user_id))
    return dict(rows.all())


# --- interfaces for the other packages ----------------------------------------------------

def active_bookings_overlapping(room_id, start, end):
    """Active bookings of a room that overlap [start, end), by start (e.g. under a whole-room training)."""
    return db.session.scalars(select(Booking).where(
        Booking.room_id == room_id, Booking.status.in_(ACTIVE_STATUSES),
        Booking.end_at > start, Booking.start_at < end).order_by(Booking.start_at, Booking.id)).all()


def relocate_or_cancel_future_bookings(actor, workstation, *, now):
    """Rule 8: after `workstation` left service, move each of its active bookings that has not ended.

    Each booking goes to the first free active workstation of the same room (it
    keeps its id and status), else it is cancelled; the doctor is told either
    way. A move can lose a race against a new booking: the database refuses it
    inside a savepoint and the next workstation is tried. Returns (moved, cancelled).
    `actor` None is the system (command line).
    """
    bookings = db.session.scalars(select(Booking).where(
        Booking.workstation_id == workstation.id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now)
        .order_by(Booking.start_at)).all()
    candidates = db.session.scalars(select(Workstation).where(
        Workstation.room_id == workstation.room_id, Workstation.status == "active",
        Workstation.id != workstation.id).order_by(Workstation.label)).all()
    moved, cancelled = [], []
    for booking in bookings:
        if _move_to_first_free(booking, candidates):
            moved.append(booking)
        else:
            _cancel(actor, booking, now=now, reason=_("The workstation was taken out of service."))
            cancelled.append(booking)
    # Notices go out after every savepoint: a rolled-back savepoint must not drop queued e-mail.
    for booking in moved:
        audit.record("booking_moved", actor=actor, clinic_id=workstation.room.clinic_id, obj=booking,
                     details={"from_workstation_id": workstation.id, "to_workstation_id": booking.workstation_id})
        notices.booking_moved(booking, workstation)
    for booking in cancelled:
        notices.booking_cancelled_out_of_service(booking, workstation)
    return moved, cancelled


def cancel_future_bookings(actor, which, *, now, reason, notice):
    """Cancel the active bookings matching the condition `which` that have not started yet.

    For rooms withdrawn from booking and doctors who moved to another clinic:
    each doctor gets `notice(booking)`. A booking another request ended first
    is left as it is. Returns the cancelled bookings.
    """
    bookings = db.session.scalars(select(Booking).where(
        which, Booking.status.in_(ACTIVE_STATUSES), Booking.start_at > now).order_by(Booking.start_at)).all()
    cancelled = []
    for booking in bookings:
        try:
            _cancel(actor, booking, now=now, reason=reason)
        except Conflict:
            continue
        notice(booking)
        cancelled.append(booking)
    return cancelled


def _move_to_first_free(booking, candidates):
    for candidate in candidates:
        busy = db.session.scalar(select(func.count()).select_from(Booking).where(
            Booking.workstation_id == candidate.id, Booking.status.in_(ACTIVE_STATUSES),
            Booking.end_at > booking.start_at, Booking.start_at < booking.end_at))
        if busy:
            continue
        try:
            with db.session.begin_nested():
                booking.workstation_id = candidate.id
        except IntegrityError as error:
            _violated_rule(error)  # anything but a lost overlap race is a real error
            continue
        return True
    return False


# --- refusals -----------------------------------------------------------------------------

def record_refusal(actor, error, *, room, workstation_id, start, end):
    """Audit a booking attempt a rule refused; call after rolling the attempt back, then commit.

    The usage report counts refused bookings per clinic, so the row must
    survive the rollback of the attempt itself.
    """
    audit.record("booking_refused", actor=actor, clinic_id=room.clinic_id if room else None,
                 details={"code": error.code, "workstation_id": workstation_id,
                          "start": iso(start) if start else None, "end": iso(end) if end else None})


# --- secret links: the calendar feed and the door display ---------------------------------

def issue_calendar_token(user):
    """A new private feed link for `user`; the old one stops working. Returns the raw token (shown once)."""
    raw = new_secret()
    user.calendar_token_hash = hash_secret(raw)
    audit.record("calendar_link_created", actor=user, obj=user)
    return raw


def revoke_calendar_token(user):
    user.calendar_token_hash = None
    audit.record("calendar_link_revoked", actor=user, obj=user)


def user_for_calendar_token(raw):
    if not raw:
        return None
    return db.session.scalar(select(User).where(User.calendar_token_hash == hash_secret(raw), User.active.is_(True)))


def issue_display_token(actor, room):
    """A new door-display link for `room` (admins of its clinic); the previous link stops working."""
    if not can_administer_room(actor, room):
        raise NotAllowed(_("Only an administrator of this clinic can manage the door display."))
    raw = new_secret()
    room.display_token_hash = hash_secret(raw)
    audit.record("display_link_created", actor=actor, clinic_id=room.clinic_id, obj=room)
    return raw


def room_for_display_token(raw):
    if not raw:
        return None
    return db.session.scalar(select(Room).where(Room.display_token_hash == hash_secret(raw)))
