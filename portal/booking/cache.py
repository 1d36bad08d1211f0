"""Availability answers cached in Redis, kept exact by per-room version numbers.

Every committed change that can alter a room's availability — a booking, a
workstation, opening hours, a closure, a training session, the room or its
clinic — bumps that room's version in Redis right after the commit, whichever
process or package made it (SQLAlchemy session events see every ORM change).
Cache keys carry the versions, so a reader never gets an answer computed
before a change it could already see: a reader takes the versions first and
reads the database second, and a writer commits first and bumps second.

Without REDIS_URL nothing is cached: a process-local cache could not learn
about other processes' writes.
"""
import time

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core.redis_client import get_redis

CHANGED = "portal_availability_changed"
ALL_ROOMS = "all"
# Changes made with raw SQL are not seen by the session events; entries expire anyway.
ENTRY_SECONDS = 300
# Passed by code that updates bookings in bulk and names the rooms itself (see mark_changed).
ROOMS_OPTION = "availability_room_ids"
TRACKED_CLASS_NAMES = {"Booking", "Workstation", "OpeningHours", "Closure", "TrainingSession", "Room", "Clinic"}


def _rooms_touched_by(obj):
    from portal.booking.models import Booking
    from portal.clinics.models import Clinic, Closure, OpeningHours, Room, Workstation
    from portal.training.models import TrainingSession

    if isinstance(obj, Room):
        return {obj.id}
    if isinstance(obj, Clinic):
        return {ALL_ROOMS}  # its time zone shapes every room's day
    if isinstance(obj, (Booking, Workstation, OpeningHours, Closure, TrainingSession)):
        return {obj.room_id}
    return set()


def mark_changed(session, room_ids):
    session.info.setdefault(CHANGED, set()).update(room_ids)


def _after_flush(session, flush_context):
    for obj in (*session.new, *session.dirty, *session.deleted):
        touched = _rooms_touched_by(obj)
        if touched:
            mark_changed(session, touched)


def _on_orm_execute(state):
    """Bulk UPDATE/DELETE statements: the rooms they name, or every room when unknown."""
    if not (state.is_update or state.is_delete):
        return
    named = state.execution_options.get(ROOMS_OPTION)
    if named is not None:
        mark_changed(state.session, named)
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_.__name__ in TRACKED_CLASS_NAMES:
        mark_changed(state.session, {ALL_ROOMS})



def _after_commit(session):
    changed = session.info.pop(CHANGED, None)
    if changed:
        bump(changed)


def _after_transaction_end(session, transaction):
    if transaction.parent is None:
        session.info.pop(CHANGED, None)  # rolled back: nothing changed


def _key(*parts):
    return current_app.config.get("CACHE_KEY_PREFIX", "portal:") + "availability:" + ":".join(map(str, parts))


def bump(room_ids):
    client = get_redis()
    if client is None:
        return
    pipe = client.pipeline(transaction=False)
    for room_id in room_ids:
        pipe.incr(_key("version", room_id))
    pipe.execute()


def get_or_compute(room_id, variant, compute):
    """The cached (clinic_id, text) for a room and variant, else `compute()`'s, cached.

    `compute()` returns (clinic_id, text, valid_until_timestamp). One round
    trip reads the room's version, the all-rooms version and the entry; the
    entry counts only if it was stored under both current versions and its
    `valid_until` (the free times move with the clock) has not passed.
    """
    client = get_redis()
    if client is None:
        clinic_id, text, _valid_until = compute()
        return clinic_id, text
    key = _key("entry", room_id, variant)
    room_version, all_version, cached = client.mget(_key("version", room_id), _key("version", ALL_ROOMS), key)
    versions = f"{int(room_version or 0)}.{int(all_version or 0)}"
    if cached is not None:
        stored_versions, clinic_id, valid_until, text = cached.decode().split("|", 3)
        if stored_versions == versions and float(valid_until) > time.time():
            return int(clinic_id), text
    clinic_id, text, valid_until = compute()
    lifetime = max(1, min(ENTRY_SECONDS, int(valid_until - time.time())))
    # Versions only grow: an entry stored late under old versions is simply never used.
    client.set(key, f"{versions}|{clinic_id}|{valid_until}|{text}", ex=lifetime)
    return clinic_id, text


def init_app(app):
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
