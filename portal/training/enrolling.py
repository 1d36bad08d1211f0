"""Enrolment with a FIFO waitlist (training rule 3), exact under concurrent requests.

Every change to a session's seats first locks the session row (SELECT … FOR UPDATE on
PostgreSQL; on SQLite the portal begins every transaction IMMEDIATE, so writers are
serialised anyway). The seat count, the waitlist order and the promotion are therefore
decided by one transaction at a time, and the CHECK seats_taken <= capacity is the last
line of defence should a code path ever forget the lock.
"""

from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.errors import Conflict, NotAllowed, NotFound
from portal.extensions import db
from portal.training.models import ACTIVE_ENROLMENT_STATUSES, Enrolment, TrainingSession
from portal.training.notices import tell, when
from portal.training.permissions import can_enrol


def lock_session(training: TrainingSession) -> TrainingSession:
    """Re-read the session under a row lock; everything seat-related happens after this."""
    # OF training_sessions: the course is joined eagerly, and only the session row is to be locked.
    return db.session.scalars(
        select(TrainingSession)
        .where(TrainingSession.id == training.id)
        .with_for_update(of=TrainingSession)
        .execution_options(populate_existing=True)
    ).one()


def enrolment_of(user_id: int, training: TrainingSession) -> Enrolment | None:
    return db.session.scalar(select(Enrolment).where(Enrolment.session_id == training.id, Enrolment.user_id == user_id))


def active_enrolments(training: TrainingSession) -> Sequence[Enrolment]:
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.session_id == training.id, Enrolment.status.in_(ACTIVE_ENROLMENT_STATUSES))
        .order_by(Enrolment.id)
    ).all()


def _require_open_for_enrolment(training, now):
    if training.status == "cancelled":
        raise Conflict(_("This session is cancelled."), code="session_cancelled")
    if training.status == "completed" or now >= training.start_at:
        raise Conflict(_("Enrolment closed when the session started."), code="enrolment_closed")


def enrol(actor: User, training: TrainingSession, *, now: datetime) -> tuple[Enrolment, bool]:
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
        enrolment.seated_at = now
        db.session.flush()
        tell(
            actor,
            "training_enrolled",
            lambda: (
                _("You are enrolled: %(title)s", title=training.course.title),
                _("See you on %(when)s in %(room)s.", when=when(training), room=training.room.name),
            ),
        )
    else:
        enrolment.status = "waitlisted"
        enrolment.waitlist_seq = _next_waitlist_seq(training)
        db.session.flush()
        position = waitlist_position(enrolment)
        tell(
            actor,
            "training_waitlisted",
            lambda: (
                _("You are on the waitlist: %(title)s", title=training.course.title),
                _(
                    "Your place on the waitlist: %(position)d. You will be enrolled and told as soon as a seat frees.",
                    position=position,
                ),
            ),
        )
    return enrolment, True


def _next_waitlist_seq(training):
    # Over every row of the session, cancelled ones included, so the sequence only grows.
    highest = db.session.scalar(select(func.max(Enrolment.waitlist_seq)).where(Enrolment.session_id == training.id))
    return (highest or 0) + 1


def waitlist_position(enrolment: Enrolment) -> int | None:
    """1-based rank among the session's waitlisted doctors; None unless waitlisted."""
    if enrolment.status != "waitlisted":
        return None
    return db.session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(
            Enrolment.session_id == enrolment.session_id,
            Enrolment.status == "waitlisted",
            Enrolment.waitlist_seq <= enrolment.waitlist_seq,
        )
    )


def waitlist(training: TrainingSession) -> Sequence[Enrolment]:
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.session_id == training.id, Enrolment.status == "waitlisted")
        .order_by(Enrolment.waitlist_seq)
    ).all()


def leave(actor: User, training: TrainingSession, *, now: datetime) -> Enrolment:
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
    promote_waitlist(training, now=now)
    return enrolment


def promote_waitlist(training: TrainingSession, *, now: datetime) -> list[Enrolment]:
    """Give free seats to the waitlist in FIFO order and tell each promoted doctor. Needs the session lock."""
    promoted = []
    for enrolment in waitlist(training):
        if training.seats_taken >= training.capacity:
            break
        training.seats_taken += 1
        enrolment.status = "enrolled"
        enrolment.seated_at = now
        promoted.append(enrolment)
        tell(
            enrolment.user,
            "training_promoted",
            lambda: (
                _("A seat is yours: %(title)s", title=training.course.title),
                _(
                    "A seat freed and you moved up from the waitlist. See you on %(when)s in %(room)s.",
                    when=when(training),
                    room=training.room.name,
                ),
            ),
        )
    db.session.flush()
    return promoted


def return_latest_seated_to_waitlist(training: TrainingSession, count: int) -> Sequence[Enrolment]:
    """Take `count` seats back for a smaller session: the doctors seated last give them up. Needs the session lock.

    They had seats while everyone waiting did not, so they go to the head of the waitlist, in the order
    they were seated, and get the next seats that free. Each is told their place. Returns them.
    """
    seated = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.session_id == training.id, Enrolment.status == "enrolled")
        .order_by(Enrolment.seated_at.desc().nulls_last(), Enrolment.id.desc())
        .limit(count)
    ).all()
    head = db.session.scalar(
        select(func.min(Enrolment.waitlist_seq)).where(
            Enrolment.session_id == training.id, Enrolment.status == "waitlisted"
        )
    )
    head = 1 if head is None else head
    for offset, enrolment in enumerate(seated, start=1):  # latest seated first: it goes furthest back
        enrolment.status = "waitlisted"
        enrolment.seated_at = None
        enrolment.waitlist_seq = head - offset
    training.seats_taken -= len(seated)
    db.session.flush()
    for enrolment in seated:
        tell(
            enrolment.user,
            "training_waitlisted",
            lambda enrolment=enrolment: (
                _("Back on the waitlist: %(title)s", title=training.course.title),
                _(
                    "The session of %(when)s has fewer seats now, and the seats given last were taken back. Your "
                    "place on the waitlist: %(position)d. You will get one of the next seats that free.",
                    when=when(training),
                    position=waitlist_position(enrolment),
                ),
            ),
        )
    return seated
