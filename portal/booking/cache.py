"""Availability answers cached in Redis (see portal.core.versioned_cache).

Every committed change that can alter a room's availability — a booking, a
workstation, opening hours, a closure, a training session (the training
package registers it with `track_room_rows`), the room or its clinic (its
time zone shapes every room's day) — bumps that room's version, or every
room's, right after the commit.
"""
from portal.core import versioned_cache

ALL_ROOMS = "availability:room:all"
# Free times move with the clock; entries also end at the next grid line (see compute in the API).
ENTRY_SECONDS = 300


def room_scope(room_id):
    return f"availability:room:{room_id}"


def rooms_option(room_ids):
    """Execution options for a bulk booking statement touching ``room_ids``
    (an empty set: the caller marks the rooms with ``mark_rooms_changed``)."""
    return versioned_cache.scopes_option({room_scope(room_id) for room_id in room_ids})


def mark_rooms_changed(session, room_ids):
    versioned_cache.mark_changed(session, {room_scope(room_id) for room_id in room_ids})


def get_or_compute(room_id, variant, compute):
    """The cached (clinic_id, text) for a room and variant, else `compute()`'s, cached.

    `compute()` returns (clinic_id, text, valid_until_timestamp).
    """
    def computed():
        clinic_id, text, valid_until = compute()
        return (clinic_id, text), valid_until

    return versioned_cache.get_or_compute((room_scope(room_id), ALL_ROOMS), f"availability:{room_id}:{variant}",
                                          computed, lifetime=ENTRY_SECONDS)


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
