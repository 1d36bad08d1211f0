"""A room's timetable: booking policy, opening hours and closures (public holidays included).

Like every rule module, each function takes the acting user (`actor`; None means the command line),
checks the permission again, raises portal.core.errors on a broken rule and only flushes.
"""

import itertools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.clinics.models import DEFAULT_POLICY, Closure, OpeningHours, Room
from portal.clinics.permissions import require_clinic_admin
from portal.clinics.schedule import local_day_bounds
from portal.clinics.signals import closure_planned
from portal.core import audit
from portal.core.errors import Conflict, Invalid
from portal.core.permissions import Actor
from portal.core.time import in_sane_years, sane_years_message
from portal.extensions import db


def closures_of_room(room: Room, *, ending_after: datetime | None = None) -> Sequence[Closure]:
    """A room's closures by start; only those ending after `ending_after` when it is given."""
    query = select(Closure).where(Closure.room_id == room.id).order_by(Closure.start_at)
    if ending_after is not None:
        query = query.where(Closure.end_at > ending_after)
    return db.session.scalars(query).all()


# Allowed range of each policy setting: wide enough for any real room, narrow enough to catch typos.
POLICY_LIMITS = {
    "slot_minutes": (5, 240),
    "min_minutes": (5, 1440),
    "max_minutes": (5, 1440),
    "horizon_days": (1, 365),
    "max_active": (1, 50),
    "max_daily_minutes": (5, 1440),
    "checkin_grace_minutes": (0, 120),
}


def update_policy(actor: Actor | None, room: Room, changes: dict[str, int]) -> Room:
    """Change some of a room's booking policy settings (the rest keep their values).

    Lengths must lie on the slot grid and the minimum may not exceed the
    maximum, otherwise no booking could ever satisfy the policy.
    """
    require_clinic_admin(actor, room.clinic_id)
    unknown = set(changes) - set(DEFAULT_POLICY)
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(_("Unknown policy setting: %(name)s.", name=name), code="invalid_policy", field=name)
    policy = room.policy()
    for name, value in changes.items():
        low, high = POLICY_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(
                _("%(name)s must be a whole number from %(low)d to %(high)d.", name=name, low=low, high=high),
                code="invalid_policy",
                field=name,
            )
        policy[name] = value
    slot = policy["slot_minutes"]
    for name in ("min_minutes", "max_minutes"):
        if policy[name] % slot:
            raise Invalid(
                _("The booking length must be a multiple of the slot (%(slot)d min).", slot=slot),
                code="invalid_policy",
                field=name,
            )
    if policy["min_minutes"] > policy["max_minutes"]:
        raise Invalid(
            _("The minimum length may not exceed the maximum length."), code="invalid_policy", field="min_minutes"
        )
    if policy["max_daily_minutes"] < policy["min_minutes"]:
        raise Invalid(
            _("The daily limit is shorter than the shortest booking."), code="invalid_policy", field="max_daily_minutes"
        )
    before = room.policy()
    for name, value in policy.items():
        setattr(room, name, value)
    db.session.flush()
    audit.record(
        "room_policy_changed",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=room,
        details={"before": before, "after": policy},
    )
    return room


def set_opening_hours(
    actor: Actor | None, room: Room, intervals: Iterable[tuple[int, time, time]]
) -> list[OpeningHours]:
    """Replace a room's weekly opening hours with `intervals`: (weekday, opens, closes) local times.

    Several intervals a day are allowed; each must close after it opens and
    intervals of one day may touch but not overlap. Errors name the weekday
    (details["weekday"]) so a form can show the message on the right line.
    """
    require_clinic_admin(actor, room.clinic_id)
    by_day = {}
    for weekday, opens, closes in intervals:
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise Invalid(
                _("The weekday must be a number from 0 (Monday) to 6 (Sunday)."), code="invalid_weekday", field="hours"
            )
        if not isinstance(opens, time) or not isinstance(closes, time):
            raise Invalid(
                _("Times must look like 08:00."), code="invalid_time", field="hours", details={"weekday": weekday}
            )
        if closes <= opens:
            raise Invalid(
                _(
                    "Closing time must be after opening time (%(opens)s–%(closes)s).",
                    opens=opens.strftime("%H:%M"),
                    closes=closes.strftime("%H:%M"),
                ),
                code="closes_before_opens",
                field="hours",
                details={"weekday": weekday},
            )
        by_day.setdefault(weekday, []).append((opens, closes))
    for weekday, day_intervals in by_day.items():
        day_intervals.sort()
        for (_opens, previous_close), (opens, closes) in itertools.pairwise(day_intervals):
            if opens < previous_close:
                raise Invalid(
                    _(
                        "Opening intervals of one day overlap (%(opens)s–%(closes)s).",
                        opens=opens.strftime("%H:%M"),
                        closes=closes.strftime("%H:%M"),
                    ),
                    code="hours_overlap",
                    field="hours",
                    details={"weekday": weekday},
                )
    room.opening_hours = [
        OpeningHours(weekday=weekday, opens=opens, closes=closes)
        for weekday in sorted(by_day)
        for opens, closes in by_day[weekday]
    ]
    db.session.flush()
    audit.record(
        "room_hours_changed",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=room,
        details={
            "hours": [
                {"weekday": h.weekday, "open": h.opens.strftime("%H:%M"), "close": h.closes.strftime("%H:%M")}
                for h in room.opening_hours
            ]
        },
    )
    return room.opening_hours


def add_closure(
    actor: Actor | None,
    room: Room,
    *,
    start: datetime | None,
    end: datetime | None,
    reason: str,
    now: datetime,
    cancel_affected: bool = False,
) -> tuple[Closure, list[dict[str, Any]]]:
    """Close a room from `start` to `end` (aware datetimes) for a stated reason; returns (closure, cancelled).

    Active bookings and training sessions the closure would cover are not left
    standing unnoticed: without `cancel_affected` the closure is refused with
    409 bookings_affected listing them (details["affected"]); with it they are
    cancelled and their doctors and trainers told. The features that own them
    answer `closure_planned` under the room's lock, so a booking made after the
    list was shown is found again (and cancelled) when the closure is confirmed.
    """
    require_clinic_admin(actor, room.clinic_id)
    reason = (reason or "").strip()
    if start is None:
        raise Invalid(_("Enter when the closure starts."), code="invalid_start", field="start")
    if end is None:
        raise Invalid(_("Enter when the closure ends."), code="invalid_end", field="end")
    for name, value in (("start", start), ("end", end)):
        if not in_sane_years(value):
            raise Invalid(sane_years_message(), code=f"invalid_{name}", field=name)
    if end <= start:
        raise Invalid(_("The closure must end after it starts."), code="end_before_start", field="end")
    if not reason or len(reason) > 200:
        raise Invalid(_("Give a reason (up to 200 characters)."), code="invalid_reason", field="reason")
    affected = [
        item
        for _receiver, items in closure_planned.send(
            room, start=start, end=end, reason=reason, actor=actor, now=now, cancel=cancel_affected
        )
        for item in items
    ]
    if affected and not cancel_affected:
        raise _bookings_affected(affected)
    closure = Closure(room=room, start_at=start, end_at=end, reason=reason, created_by_id=getattr(actor, "id", None))
    db.session.add(closure)
    db.session.flush()
    audit.record(
        "closure_added",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=closure,
        details={
            "room_id": room.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": reason,
            "cancelled": [{"kind": item["kind"], "id": item["id"]} for item in affected],
        },
    )
    return closure, affected


def _bookings_affected(affected):
    return Conflict(
        _(
            "The closure covers active bookings or training sessions. Confirm to cancel them; their "
            "doctors and trainers will be told."
        ),
        code="bookings_affected",
        field="start",
        details={"affected": affected},
    )


def delete_closure(actor: Actor | None, closure: Closure) -> None:
    """Reopen a room: remove one closure."""
    require_clinic_admin(actor, closure.room.clinic_id)
    audit.record(
        "closure_removed",
        actor=actor,
        clinic_id=closure.room.clinic_id,
        obj=closure,
        details={
            "room_id": closure.room_id,
            "start": closure.start_at.isoformat(),
            "end": closure.end_at.isoformat(),
            "reason": closure.reason,
        },
    )
    db.session.delete(closure)
    db.session.flush()


def russian_non_working_days(year: int) -> dict[date, str]:
    """Federal non-working days of Russia in `year`: holidays and the days off moved by decree.

    Comes from the `holidays` package (its RU calendar includes the yearly
    transfers); returns {date: name in Russian}.
    """
    import holidays

    return dict(holidays.country_holidays("RU", years=year, language="ru"))


def _runs_of_days(days):
    """Group sorted dates into runs of consecutive days: [(first, last, [names])]."""
    runs = []
    for day, name in sorted(days.items()):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            first, _last, names = runs[-1]
            runs[-1] = (first, day, names + [name])
        else:
            runs.append((day, day, [name]))
    return runs


def add_public_holidays(
    actor: Actor | None, rooms: Sequence[Room], *, year: int, now: datetime, cancel_affected: bool = False
) -> tuple[list[Closure], list[dict[str, Any]]]:
    """Close `rooms` on every Russian federal non-working day of `year`, in one step.

    Consecutive days become one closure (the New Year break is one line, not
    nine). Runs already covered by a closure are skipped, so running it twice
    adds nothing. Bookings and sessions on those days are handled as by
    `add_closure`, those of every room listed in one refusal. Returns (new closures, cancelled).
    """
    for room in rooms:
        require_clinic_admin(actor, room.clinic_id)
    if isinstance(year, bool) or not isinstance(year, int) or not now.year - 1 <= year <= now.year + 2:
        raise Invalid(
            _("Choose a year from %(first)d to %(last)d.", first=now.year - 1, last=now.year + 2),
            code="invalid_year",
            field="year",
        )
    runs = _runs_of_days(russian_non_working_days(year))
    created, affected = [], []
    for room in rooms:
        for first, last, names in runs:
            start, end = local_day_bounds(room.timezone, first, last)
            covered = db.session.scalar(
                select(func.count())
                .select_from(Closure)
                .where(Closure.room_id == room.id, Closure.start_at <= start, Closure.end_at >= end)
            )
            if covered:
                continue
            reason = "; ".join(dict.fromkeys(names))[:200]
            try:
                closure, cancelled = add_closure(
                    actor, room, start=start, end=end, reason=reason, now=now, cancel_affected=cancel_affected
                )
            except Conflict as error:
                if error.code != "bookings_affected":
                    raise
                affected += error.details["affected"]
                continue
            created.append(closure)
            affected += cancelled
    if affected and not cancel_affected:
        raise _bookings_affected(affected)
    return created, affected
