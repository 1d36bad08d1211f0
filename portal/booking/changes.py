"""Changing a booking: cancel, check in (rule 7) and moving off a workstation that left service (rule 8)."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.booking import cache, notices
from portal.booking.creating import violated_overlap_rule
from portal.booking.models import ACTIVE_STATUSES, Booking
from portal.booking.permissions import can_cancel, can_manage_booking
from portal.clinics.models import Workstation
from portal.core import audit
from portal.core.errors import Conflict, NotAllowed
from portal.extensions import db

CHECKIN_OPENS_BEFORE = timedelta(minutes=10)


def _transition(booking, from_statuses, **values):
    """One guarded UPDATE: applies only if the booking is still in `from_statuses`.

    A concurrent job or request that changed the status first makes this a
    no-op (False) instead of overwriting its decision.
    """
    result = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(from_statuses))
        .values(**values)
        .execution_options(**cache.rooms_option({booking.room_id}))
    )
    if result.rowcount != 1:
        db.session.refresh(booking)
        return False
    return True


def cancel_booking(
    actor: User | None, booking: Booking, *, now: datetime, reason: str | None = None, notify_owner: bool = True
) -> Booking:
    """Cancel an active booking: its owner until it starts; an admin of its clinic until it ends.

    `actor` None is the system (command line). Records who and why, audits,
    and tells the owner when someone else cancelled (unless the caller sends
    its own, more specific notice: `notify_owner=False`).
    """
    if actor is not None and not can_manage_booking(actor, booking):
        raise NotAllowed(_("You can only cancel your own bookings."), code="forbidden")
    if not booking.is_active or booking.end_at <= now:
        raise Conflict(_("This booking is no longer active."), code="not_active")
    if actor is not None and not can_cancel(actor, booking, now):
        raise Conflict(_("A booking can only be cancelled before it starts."), code="cancel_too_late")
    _cancel(actor, booking, now=now, reason=reason)
    if (actor is None or actor.id != booking.user_id) and notify_owner:
        notices.booking_cancelled(booking, booking.cancel_reason)
    return booking


def cancel_for_room(
    actor: User | None, bookings: Iterable[Booking], *, now: datetime, reason: Callable[[], str]
) -> None:
    """Cancel bookings because the room is needed (a whole-room training, a closure); each doctor is told.

    `reason()` gives the text. It is stored once, so it is written in the portal's default language; the
    notice around it reaches each doctor in their own.
    """
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = reason()
    for booking in bookings:
        cancel_booking(actor, booking, now=now, reason=text)


def _cancel(actor, booking, *, now, reason):
    reason = (str(reason or "")).strip()[:300] or None
    if not _transition(
        booking,
        ACTIVE_STATUSES,
        status="cancelled",
        cancelled_at=now,
        cancelled_by_id=getattr(actor, "id", None),
        cancel_reason=reason,
    ):
        raise Conflict(_("This booking is no longer active."), code="not_active")
    audit.record(
        "booking_cancelled",
        actor=actor,
        clinic_id=booking.room.clinic_id,
        obj=booking,
        details={"reason": reason, "user_id": booking.user_id},
    )


def check_in(actor: User, booking: Booking, *, now: datetime) -> Booking:
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


def checkin_window(booking: Booking) -> tuple[datetime, datetime]:
    grace = timedelta(minutes=booking.room.checkin_grace_minutes)
    return booking.start_at - CHECKIN_OPENS_BEFORE, booking.start_at + grace


def can_check_in_now(booking: Booking, now: datetime) -> bool:
    opens, closes = checkin_window(booking)
    return booking.status == "booked" and opens <= now < closes


def relocate_or_cancel_future_bookings(
    workstation: Workstation, *, actor: User | None, now: datetime
) -> tuple[list[Booking], list[Booking]]:
    """Rule 8: after `workstation` left service, move each of its active bookings that has not ended.

    Each booking goes to the first free active workstation of the same room (it
    keeps its id and status), else it is cancelled; the doctor is told either
    way. A move can lose a race against a new booking: the database refuses it
    inside a savepoint and the next workstation is tried. Returns (moved, cancelled).
    `actor` None is the system (command line). Connected to
    portal.clinics.signals.workstation_left_service.
    """
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.workstation_id == workstation.id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > now)
        .order_by(Booking.start_at)
    ).all()
    candidates = db.session.scalars(
        select(Workstation)
        .where(
            Workstation.room_id == workstation.room_id, Workstation.status == "active", Workstation.id != workstation.id
        )
        .order_by(Workstation.label)
    ).all()
    moved, cancelled = [], []
    for booking in bookings:
        if _move_to_first_free(booking, candidates):
            moved.append(booking)
        else:
            _cancel(actor, booking, now=now, reason=_("The workstation was taken out of service."))
            cancelled.append(booking)
    # Notices go out after every savepoint: a rolled-back savepoint must not drop queued e-mail.
    for booking in moved:
        audit.record(
            "booking_moved",
            actor=actor,
            clinic_id=workstation.room.clinic_id,
            obj=booking,
            details={"from_workstation_id": workstation.id, "to_workstation_id": booking.workstation_id},
        )
        notices.booking_moved(booking, workstation)
    for booking in cancelled:
        notices.booking_cancelled_out_of_service(booking, workstation)
    return moved, cancelled


def cancel_future_bookings(
    actor: User | None, which: ColumnElement[bool], *, now: datetime, reason: str, notice: Callable[[Booking], object]
) -> list[Booking]:
    """Cancel the active bookings matching the condition `which` that have not started yet.

    For rooms withdrawn from booking and doctors who moved to another clinic:
    each doctor gets `notice(booking)`. A booking another request ended first
    is left as it is. Returns the cancelled bookings.
    """
    bookings = db.session.scalars(
        select(Booking)
        .where(which, Booking.status.in_(ACTIVE_STATUSES), Booking.start_at > now)
        .order_by(Booking.start_at)
    ).all()
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
        busy = db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.workstation_id == candidate.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.end_at > booking.start_at,
                Booking.start_at < booking.end_at,
            )
        )
        if busy:
            continue
        try:
            with db.session.begin_nested():
                booking.workstation_id = candidate.id
        except IntegrityError as error:
            violated_overlap_rule(error)  # anything but a lost overlap race is a real error
            continue
        return True
    return False
