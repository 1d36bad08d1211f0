"""What is free in a room: one loading step (a handful of queries) and pure interval arithmetic.

The same `RoomState` answers the API's availability document, draws the
schedule grid, checks a new booking against opening hours, closures and
trainings, and finds alternatives when a booking is refused — one source of
truth for "free".
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal.booking.models import ACTIVE_STATUSES, Booking
from portal.clinics.models import Closure, Workstation
from portal.clinics.schedule import subtract, weekly_intervals
from portal.core.time import iso, local_to_utc, to_local
from portal.extensions import db

SESSIONS_SOURCE = "portal_room_sessions"


def register_sessions_source(app, source):
    """Trainings block rooms, but booking knows no training package: the training package registers
    `source(room_id, start, end)`, which returns the room's sessions (not cancelled ones) overlapping [start, end),
    by start, as dicts with id, start_at, end_at, whole_room, capacity, seats_taken and title."""
    app.extensions[SESSIONS_SOURCE] = source


def _no_sessions(room_id, start, end):
    return []


@dataclass(frozen=True)
class BusyBooking:
    id: int
    workstation_id: int
    user_id: int | None
    start: datetime
    end: datetime
    status: str


@dataclass
class RoomState:
    """A room between two UTC instants: opening windows, closures, sessions, workstations, bookings."""

    room: object
    start: datetime
    end: datetime
    windows: list = field(default_factory=list)  # merged opening intervals, clipped to the range
    closures: list = field(default_factory=list)  # (start, end, reason)
    sessions: list = field(default_factory=list)  # dicts, every session of the room not cancelled
    workstations: list = field(default_factory=list)  # (id, label, status), by label
    bookings: list = field(default_factory=list)  # BusyBooking, active only

    @property
    def whole_room_sessions(self):
        return [(s["start_at"], s["end_at"]) for s in self.sessions if s["whole_room"]]

    def bookings_of(self, workstation_id):
        return [b for b in self.bookings if b.workstation_id == workstation_id]

    def room_blocks(self):
        """Times no workstation can be booked: closures and whole-room trainings."""
        return [(start, end) for start, end, _reason in self.closures] + self.whole_room_sessions

    def free(self, workstation_id, now, *, extra_blocks=()):
        """Bookable intervals of one workstation: on the grid, open, not past, inside the horizon."""
        room = self.room
        lower = max(self.start, grid_ceil(now, room))
        upper = min(self.end, grid_floor(now + timedelta(days=room.horizon_days), room))
        holes = self.room_blocks() + [(b.start, b.end) for b in self.bookings_of(workstation_id)]
        holes += list(extra_blocks)
        result = []
        for start, end in subtract(self.windows, sorted(holes)):
            start, end = grid_ceil(max(start, lower), room), grid_floor(min(end, upper), room)
            if end - start >= timedelta(minutes=room.min_minutes):
                result.append((start, end))
        return result

    def busy(self, workstation_id):
        """What blocks a workstation, each with its kind: closed, closure, training, booking."""
        closed = subtract([(self.start, self.end)], self.windows)
        entries = [(start, end, "closed") for start, end in closed]
        entries += [(max(s, self.start), min(e, self.end), "closure") for s, e, _reason in self.closures]
        entries += [(max(s, self.start), min(e, self.end), "training") for s, e in self.whole_room_sessions]
        entries += [
            (max(b.start, self.start), min(b.end, self.end), "booking") for b in self.bookings_of(workstation_id)
        ]
        return sorted(entries)

    def in_opening_hours(self, start, end):
        return any(open_start <= start and end <= open_end for open_start, open_end in self.windows)


def load_room_state(room, start, end):
    """Read everything that decides availability in [start, end) — five small indexed queries."""
    first_day = to_local(start, room.timezone).date()
    last_day = to_local(end - timedelta(microseconds=1), room.timezone).date()
    windows = merge(
        [(max(s, start), min(e, end)) for s, e in weekly_intervals(room, first_day, last_day) if e > start and s < end]
    )
    closures = db.session.execute(
        select(Closure.start_at, Closure.end_at, Closure.reason)
        .where(Closure.room_id == room.id, Closure.start_at < end, Closure.end_at > start)
        .order_by(Closure.start_at)
    ).all()
    sessions = current_app.extensions.get(SESSIONS_SOURCE, _no_sessions)(room.id, start, end)
    workstations = db.session.execute(
        select(Workstation.id, Workstation.label, Workstation.status)
        .where(Workstation.room_id == room.id)
        .order_by(Workstation.label)
    ).all()
    # Served by the partial index on active bookings (room_id, end_at): history does not slow this down.
    bookings = db.session.execute(
        select(Booking.id, Booking.workstation_id, Booking.user_id, Booking.start_at, Booking.end_at, Booking.status)
        .where(
            Booking.room_id == room.id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.end_at > start,
            Booking.start_at < end,
        )
        .order_by(Booking.start_at)
    ).all()
    return RoomState(
        room=room,
        start=start,
        end=end,
        windows=windows,
        closures=[tuple(row) for row in closures],
        sessions=list(sessions),
        workstations=[tuple(row) for row in workstations],
        bookings=[BusyBooking(*row) for row in bookings],
    )


def merge(intervals):
    """Sorted, overlapping or touching intervals joined (08–12 and 12–20 are one opening)."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlaps(start, end, intervals):
    return any(s < end and start < e for s, e in intervals)


# --- the slot grid, counted from local midnight in the clinic's zone --------------------------


def _grid(value, room, rounding):
    local = to_local(value, room.timezone).replace(tzinfo=None)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    slots = rounding((local - midnight).total_seconds() / 60 / room.slot_minutes)
    return local_to_utc(midnight + timedelta(minutes=slots * room.slot_minutes), room.timezone)


def grid_ceil(value, room):
    return _grid(value, room, math.ceil)


def grid_floor(value, room):
    return _grid(value, room, math.floor)


def on_grid(value, room):
    return grid_floor(value, room) == value


def local_day_range(room, day, days=1):
    """UTC bounds of `days` local days of the room's clinic, starting with the date `day`."""
    start = local_to_utc(datetime.combine(day, datetime.min.time()), room.timezone)
    end = local_to_utc(datetime.combine(day + timedelta(days=days), datetime.min.time()), room.timezone)
    return start, end


# --- the API document ----------------------------------------------------------------------


def availability_document(state, now):
    """The spec's availability shape (times ISO 8601 in the clinic's zone)."""
    room, tz = state.room, state.room.timezone

    def span(start, end, **extra):
        return {"start": iso(start, tz), "end": iso(end, tz), **extra}

    workstations = []
    for workstation_id, label, status in state.workstations:
        free = state.free(workstation_id, now) if status == "active" else []
        workstations.append(
            {
                "id": workstation_id,
                "label": label,
                "status": status,
                "busy": [span(start, end, kind=kind) for start, end, kind in state.busy(workstation_id)],
                "free": [span(start, end) for start, end in free],
            }
        )
    return {
        "room": {"id": room.id, "name": room.name, "timezone": tz, "clinic_id": room.clinic_id},
        "from": iso(state.start, tz),
        "to": iso(state.end, tz),
        "slot_minutes": room.slot_minutes,
        "min_minutes": room.min_minutes,
        "max_minutes": room.max_minutes,
        "opening_hours": [span(start, end) for start, end in state.windows],
        "closures": [span(start, end, reason=reason) for start, end, reason in state.closures],
        "workstations": workstations,
        "sessions": [
            span(
                s["start_at"],
                s["end_at"],
                id=s["id"],
                title=s["title"],
                whole_room=s["whole_room"],
                capacity=s["capacity"],
                seats_left=max(s["capacity"] - s["seats_taken"], 0),
            )
            for s in state.sessions
        ],
    }
