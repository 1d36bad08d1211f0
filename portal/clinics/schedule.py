"""When a room is open: weekly opening hours in local time, minus closures, as UTC intervals."""

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.clinics.models import Closure
from portal.core.time import local_to_utc, to_local
from portal.extensions import db


def local_day_bounds(tz_name, first_day, last_day):
    """UTC start of local date `first_day` and UTC end of local date `last_day` in zone `tz_name`."""
    start = local_to_utc(datetime.combine(first_day, datetime.min.time()), tz_name)
    end = local_to_utc(datetime.combine(last_day + timedelta(days=1), datetime.min.time()), tz_name)
    return start, end


def weekly_intervals(room, first_day, last_day):
    """The opening hours of each local day from `first_day` to `last_day`, as sorted UTC intervals."""
    by_weekday = {}
    for hours in room.opening_hours:
        by_weekday.setdefault(hours.weekday, []).append(hours)
    intervals = []
    day = first_day
    while day <= last_day:
        for hours in by_weekday.get(day.weekday(), ()):
            intervals.append(
                (
                    local_to_utc(datetime.combine(day, hours.opens), room.timezone),
                    local_to_utc(datetime.combine(day, hours.closes), room.timezone),
                )
            )
        day += timedelta(days=1)
    return sorted(intervals)


def closures_between(room, start, end):
    return db.session.scalars(
        select(Closure)
        .where(Closure.room_id == room.id, Closure.start_at < end, Closure.end_at > start)
        .order_by(Closure.start_at)
    ).all()


def subtract(intervals, holes):
    """`intervals` with every (start, end) of `holes` cut out; both lists of UTC pairs."""
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            pieces = [
                piece
                for piece_start, piece_end in pieces
                for piece in ((piece_start, min(piece_end, hole_start)), (max(piece_start, hole_end), piece_end))
                if piece[1] > piece[0]
            ]
        result.extend(pieces)
    return result


def open_intervals(room, first_day, last_day):
    """UTC intervals the room is open on the local days `first_day`..`last_day`, closures removed."""
    start, end = local_day_bounds(room.timezone, first_day, last_day)
    holes = [(closure.start_at, closure.end_at) for closure in closures_between(room, start, end)]
    return subtract(weekly_intervals(room, first_day, last_day), holes)


def minutes(intervals):
    return sum((end - start).total_seconds() for start, end in intervals) / 60


def next_opening(room, now, *, days=31):
    """When the room is next open: `now` itself if it is open now; None if it stays closed for `days` days."""
    today = to_local(now, room.timezone).date()
    return next(
        (max(start, now) for start, end in open_intervals(room, today, today + timedelta(days=days)) if end > now), None
    )
