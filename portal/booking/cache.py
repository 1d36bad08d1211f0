"""Answers about a room (availability, the schedule grid) kept under the room's version.

Every change that can alter a room's availability — a booking, a workstation,
opening hours, a closure, a training session (the training package registers
it with `track_room_rows`), the room or its clinic (its time zone shapes every
room's day) — raises that room's version, or every room's, in `room_versions`
as the last statement of the same transaction. A process reads the version
(one indexed read) and looks the answer up under it, in its own memory first
and then in Redis (portal.core.versioned_cache.get_or_compute_at): whichever
process or machine made a change, the next answer anywhere shows it.
"""

import secrets

from sqlalchemy import bindparam, event, select, text
from sqlalchemy.orm import Session

from portal.clinics.models import RoomVersion
from portal.core import versioned_cache
from portal.extensions import db

ALL_ROOMS = "availability:room:all"
ROOM_SCOPE_PREFIX = "availability:room:"
# Free times move with the clock: entries also end at the next grid line (see the callers).
ENTRY_SECONDS = 300

_RAISE = (
    "INSERT INTO room_versions (room_id, version) SELECT id, :start FROM rooms WHERE {rooms} ORDER BY id "
    "ON CONFLICT (room_id) DO UPDATE SET version = room_versions.version + 1"
)
RAISE_ROOMS = text(_RAISE.format(rooms="id IN :room_ids")).bindparams(bindparam("room_ids", expanding=True))
# SQLite needs the WHERE before ON CONFLICT of an INSERT … SELECT.
RAISE_ALL_ROOMS = text(_RAISE.format(rooms="1 = 1"))
VERSION_OF = select(RoomVersion.version).where(RoomVersion.room_id == bindparam("room_id"))


def room_scope(room_id):
    return f"{ROOM_SCOPE_PREFIX}{room_id}"


def rooms_option(room_ids):
    """Execution options for a bulk booking statement touching ``room_ids``
    (an empty set: the caller marks the rooms with ``mark_rooms_changed``)."""
    return versioned_cache.scopes_option({room_scope(room_id) for room_id in room_ids})


def mark_rooms_changed(session, room_ids):
    versioned_cache.mark_changed(session, {room_scope(room_id) for room_id in room_ids})


def room_version(room_id):
    """The room's current version (0 for a room whose availability never changed through the portal)."""
    return db.session.scalar(VERSION_OF, {"room_id": room_id}) or 0


def get_or_compute(room_id, variant, compute, *, version=None):
    """The kept answer for a room and variant at the room's current version, else `compute()`'s, kept.

    `compute()` returns (value, valid_until_timestamp). ``version``: the room's version as this
    transaction already read it, before anything ``compute()`` reads (queries.visible_room_at_version).
    """
    if version is None:
        version = room_version(room_id)
    return versioned_cache.get_or_compute_at(version, f"room:{room_id}:{variant}", compute, lifetime=ENTRY_SECONDS)


def _raise_room_versions(session):
    """Before the commit: raise the versions of the rooms this transaction changed, in the transaction."""
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: the outer commit raises them once
    session.flush()
    pending = versioned_cache.pending_scopes(session)
    scopes = {scope for scope in pending if scope.startswith(ROOM_SCOPE_PREFIX)}
    if not scopes:
        return
    pending.difference_update(scopes)  # kept in the database, not in Redis
    start = secrets.randbits(62)
    if ALL_ROOMS in scopes:
        session.execute(RAISE_ALL_ROOMS, {"start": start})
        return
    room_ids = sorted(
        int(room_id) for room_id in (scope.removeprefix(ROOM_SCOPE_PREFIX) for scope in scopes) if room_id.isdigit()
    )
    session.execute(RAISE_ROOMS, {"start": start, "room_ids": room_ids})


def track_room_rows(model_class):
    """Any committed change to a row of `model_class` (it has a room_id) changes its room's availability."""
    versioned_cache.track(model_class, lambda row: {room_scope(row.room_id)}, bulk_scopes={ALL_ROOMS})


def init_app(app):
    from portal.booking.models import Booking
    from portal.clinics.models import Clinic, Closure, OpeningHours, Room, Workstation

    versioned_cache.track(Room, lambda room: {room_scope(room.id)}, bulk_scopes={ALL_ROOMS})
    versioned_cache.track(Clinic, lambda clinic: {ALL_ROOMS}, bulk_scopes={ALL_ROOMS})
    for cls in (Booking, Workstation, OpeningHours, Closure):
        track_room_rows(cls)
    if not event.contains(Session, "before_commit", _raise_room_versions):
        event.listen(Session, "before_commit", _raise_room_versions)
