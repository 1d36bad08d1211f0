"""Clinics, rooms, schedules, booking policy, workstations, equipment and problem reports: the rules.

Every function takes the acting user (`actor`; None means the command line,
which is trusted), checks the permission again, raises portal.core.errors on
a broken rule and only flushes: the caller commits once or rolls back.
"""
import itertools
import re
from datetime import time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.clinics import signals
from portal.clinics.labels import kind_label, status_label
from portal.clinics.models import (
    DEFAULT_POLICY,
    EQUIPMENT_STATUSES,
    PROBLEM_STATUSES,
    WORKSTATION_STATUSES,
    Clinic,
    Closure,
    EquipmentEvent,
    EquipmentItem,
    OpeningHours,
    ProblemReport,
    Room,
    Workstation,
)
from portal.clinics.schedule import local_day_bounds
from portal.clinics.signals import closure_planned, workstation_left_service
from portal.core import audit
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.notifications import in_language_of, notify, notify_clinic_admins
from portal.core.permissions import can_administer_clinic, can_see_clinic, is_superadmin
from portal.core.time import in_sane_years, is_valid_timezone, sane_years_message
from portal.extensions import db

CLINIC_FIELDS = ("name", "short_name", "code", "address", "timezone")
# Codes as the city's systems write them: letters, digits and - _ . / without spaces.
CODE_PATTERN = re.compile(r"^[\w./-]{1,40}$")


def _require_superadmin(actor, message):
    if actor is not None and not is_superadmin(actor):
        raise NotAllowed(message)


def _clinic_fields(*, name, short_name, code, address, timezone, clinic_id=None):
    """Check a clinic's fields; returns them cleaned (an empty code is no code)."""
    name = (name or "").strip()
    short_name = (short_name or "").strip()
    code = (code or "").strip() or None
    address = (address or "").strip()
    timezone = (timezone or "").strip() or "Europe/Moscow"
    if not name or len(name) > 300:
        raise Invalid(_("Enter the clinic's name (up to 300 characters)."), code="invalid_name", field="name")
    if not short_name or len(short_name) > 40:
        raise Invalid(_("Enter a short name (up to 40 characters)."), code="invalid_short_name", field="short_name")
    if code is not None and not CODE_PATTERN.match(code):
        raise Invalid(_("The code is up to 40 letters, digits or - _ . / without spaces."), code="invalid_code",
                      field="code")
    if len(address) > 300:
        raise Invalid(_("The address is too long (up to 300 characters)."), code="invalid_address",
                      field="address")
    if not is_valid_timezone(timezone):
        raise Invalid(_("Unknown time zone."), code="invalid_timezone", field="timezone")
    if _taken_by_another(Clinic.short_name, short_name, clinic_id):
        raise _short_name_taken()
    if code is not None and _taken_by_another(Clinic.code, code, clinic_id):
        raise _code_taken()
    return {"name": name, "short_name": short_name, "code": code, "address": address, "timezone": timezone}


def _taken_by_another(column, value, clinic_id):
    query = select(func.count()).select_from(Clinic).where(column == value)
    if clinic_id is not None:
        query = query.where(Clinic.id != clinic_id)
    return db.session.scalar(query)


def _short_name_taken():
    return Invalid(_("A clinic with this short name already exists."), code="short_name_taken", field="short_name")


def _code_taken():
    return Invalid(_("Another clinic already has this code."), code="code_taken", field="code")


def _flush_clinic(clinic):
    """Flush inside a savepoint: a concurrent clinic with the same short name or code passes the
    checks, and the unique indexes refuse it here with the same friendly error."""
    try:
        with db.session.begin_nested():
            db.session.add(clinic)
    except IntegrityError as error:
        raise (_code_taken() if "code" in str(error.orig) else _short_name_taken()) from None


def create_clinic(actor, *, name, short_name, timezone=None, address="", code=None):
    """Only a superadmin (or the command line, actor None) creates clinics."""
    _require_superadmin(actor, _("Only a city administrator can create clinics."))
    fields = _clinic_fields(name=name, short_name=short_name, code=code, address=address, timezone=timezone)
    clinic = Clinic(**fields)
    _flush_clinic(clinic)
    audit.record("clinic_created", actor=actor, clinic_id=clinic.id, obj=clinic, details=fields)
    return clinic


def update_clinic(actor, clinic, changes):
    """Change some of a clinic's name, short name, code, address and time zone (a superadmin's work).

    Returns the changed fields as {name: (before, after)}; nothing changed, nothing is written.
    """
    _require_superadmin(actor, _("Only a city administrator can change clinics."))
    unknown = sorted(set(changes) - set(CLINIC_FIELDS))
    if unknown:
        raise Invalid(_("Unknown clinic field: %(name)s.", name=unknown[0]), code="invalid_field", field=unknown[0])
    current = {name: getattr(clinic, name) for name in CLINIC_FIELDS}
    fields = _clinic_fields(**{**current, **changes}, clinic_id=clinic.id)
    changed = {name: (current[name], value) for name, value in fields.items() if current[name] != value}
    if not changed:
        return {}
    for name, (_before, value) in changed.items():
        setattr(clinic, name, value)
    _flush_clinic(clinic)
    audit.record("clinic_updated", actor=actor, clinic_id=clinic.id, obj=clinic,
                 details={name: {"before": before, "after": after} for name, (before, after) in changed.items()})
    return changed


def set_clinic_active(actor, clinic, active, *, now):
    """Deactivate or reactivate a clinic (a superadmin's work).

    A deactivated clinic leaves every choice; its rooms' future bookings and
    trainings are cancelled with a notice, and its people are signed out and
    cannot sign in (nor use API tokens) until the clinic is active again.
    """
    _require_superadmin(actor, _("Only a city administrator can deactivate clinics."))
    if clinic.active == active:
        return clinic
    clinic.active = active
    db.session.flush()
    if not active:
        for room in clinic.rooms:
            if room.active:
                signals.room_withdrawn.send(room, actor=actor, now=now)
        signals.clinic_deactivated.send(clinic, actor=actor, now=now)
    audit.record("clinic_activated" if active else "clinic_deactivated", actor=actor, clinic_id=clinic.id, obj=clinic)
    return clinic


def _require_admin(actor, clinic_id):
    if actor is not None and not can_administer_clinic(actor, clinic_id):
        raise NotAllowed(_("You can only manage rooms of your own clinic."))


def _room_fields(clinic_id, name, location, capacity, room_id=None):
    """Check a room's name, location and capacity; returns the cleaned values."""
    name = (name or "").strip()
    location = (location or "").strip()
    if not name or len(name) > 120:
        raise Invalid(_("Enter the room's name (up to 120 characters)."), code="invalid_name", field="name")
    if len(location) > 200:
        raise Invalid(_("The location is too long (up to 200 characters)."), code="invalid_location",
                      field="location")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 500:
        raise Invalid(_("Capacity must be a whole number from 0 to 500."), code="invalid_capacity", field="capacity")
    same_name = select(func.count()).select_from(Room).where(Room.clinic_id == clinic_id, Room.name == name)
    if room_id is not None:
        same_name = same_name.where(Room.id != room_id)
    if db.session.scalar(same_name):
        raise Invalid(_("This clinic already has a room with this name."), code="name_taken", field="name")
    return name, location, capacity


def create_room(actor, clinic, *, name, location="", capacity=0):
    """A new room of `clinic` with the default booking policy (and no opening hours yet)."""
    _require_admin(actor, clinic.id)
    name, location, capacity = _room_fields(clinic.id, name, location, capacity)
    room = Room(clinic=clinic, name=name, location=location, capacity=capacity)
    db.session.add(room)
    db.session.flush()
    audit.record("room_created", actor=actor, clinic_id=clinic.id, obj=room)
    return room


def update_room(actor, room, *, name, location, capacity):
    """Rename a room, move it, or change its training seat capacity."""
    _require_admin(actor, room.clinic_id)
    name, location, capacity = _room_fields(room.clinic_id, name, location, capacity, room_id=room.id)
    before = {"name": room.name, "location": room.location, "capacity": room.capacity}
    room.name, room.location, room.capacity = name, location, capacity
    db.session.flush()
    audit.record("room_updated", actor=actor, clinic_id=room.clinic_id, obj=room,
                 details={"before": before, "after": {"name": name, "location": location, "capacity": capacity}})
    return room


def set_room_active(actor, room, active, *, now):
    """Withdraw a room (its future bookings and trainings are cancelled, each person told) or bring it back.

    A withdrawn room keeps its history for the reports but is offered for nothing new.
    """
    _require_admin(actor, room.clinic_id)
    if room.active == active:
        return room
    room.active = active
    db.session.flush()
    if not active:
        signals.room_withdrawn.send(room, actor=actor, now=now)
    audit.record("room_activated" if active else "room_deactivated", actor=actor, clinic_id=room.clinic_id, obj=room)
    return room


def visible_clinics(user, *, include_inactive=False):
    """The clinics a user may choose from: their own, or every clinic for a superadmin.

    Deactivated clinics are left out unless `include_inactive` (the city's administration pages).
    """
    query = select(Clinic).order_by(Clinic.name).options(selectinload(Clinic.rooms))
    if not is_superadmin(user):
        query = query.where(Clinic.id == user.clinic_id)
    if not include_inactive:
        query = query.where(Clinic.active.is_(True))
    return db.session.scalars(query).all()


def rooms_of_clinic(clinic_id):
    """The rooms of a clinic that take bookings and trainings (withdrawn rooms are left out)."""
    return db.session.scalars(select(Room).where(Room.clinic_id == clinic_id, Room.active.is_(True))
                              .order_by(Room.name)).all()


def closures_of_room(room, *, ending_after=None):
    """A room's closures by start; only those ending after `ending_after` when it is given."""
    query = select(Closure).where(Closure.room_id == room.id).order_by(Closure.start_at)
    if ending_after is not None:
        query = query.where(Closure.end_at > ending_after)
    return db.session.scalars(query).all()


def clinic_by_code(code):
    return db.session.scalar(select(Clinic).where(Clinic.code == code)) if code else None


def bookable_rooms(clinic):
    """The rooms of an active clinic that take bookings and trainings."""
    return [room for room in clinic.rooms if room.active] if clinic.active else []


# --- booking policy ----------------------------------------------------------------------

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


def update_policy(actor, room, changes):
    """Change some of a room's booking policy settings (the rest keep their values).

    Lengths must lie on the slot grid and the minimum may not exceed the
    maximum, otherwise no booking could ever satisfy the policy.
    """
    _require_admin(actor, room.clinic_id)
    unknown = set(changes) - set(DEFAULT_POLICY)
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(_("Unknown policy setting: %(name)s.", name=name), code="invalid_policy", field=name)
    policy = room.policy()
    for name, value in changes.items():
        low, high = POLICY_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(_("%(name)s must be a whole number from %(low)d to %(high)d.",
                            name=name, low=low, high=high), code="invalid_policy", field=name)
        policy[name] = value
    slot = policy["slot_minutes"]
    for name in ("min_minutes", "max_minutes"):
        if policy[name] % slot:
            raise Invalid(_("The booking length must be a multiple of the slot (%(slot)d min).", slot=slot),
                          code="invalid_policy", field=name)
    if policy["min_minutes"] > policy["max_minutes"]:
        raise Invalid(_("The minimum length may not exceed the maximum length."), code="invalid_policy",
                      field="min_minutes")
    if policy["max_daily_minutes"] < policy["min_minutes"]:
        raise Invalid(_("The daily limit is shorter than the shortest booking."), code="invalid_policy",
                      field="max_daily_minutes")
    before = room.policy()
    for name, value in policy.items():
        setattr(room, name, value)
    db.session.flush()
    audit.record("room_policy_changed", actor=actor, clinic_id=room.clinic_id, obj=room,
                 details={"before": before, "after": policy})
    return room


# --- opening hours and closures -------------------------------------------------------------

def set_opening_hours(actor, room, intervals):
    """Replace a room's weekly opening hours with `intervals`: (weekday, opens, closes) local times.

    Several intervals a day are allowed; each must close after it opens and
    intervals of one day may touch but not overlap. Errors name the weekday
    (details["weekday"]) so a form can show the message on the right line.
    """
    _require_admin(actor, room.clinic_id)
    by_day = {}
    for weekday, opens, closes in intervals:
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise Invalid(_("The weekday must be a number from 0 (Monday) to 6 (Sunday)."),
                          code="invalid_weekday", field="hours")
        if not isinstance(opens, time) or not isinstance(closes, time):
            raise Invalid(_("Times must look like 08:00."), code="invalid_time", field="hours",
                          details={"weekday": weekday})
        if closes <= opens:
            raise Invalid(_("Closing time must be after opening time (%(opens)s–%(closes)s).",
                            opens=opens.strftime("%H:%M"), closes=closes.strftime("%H:%M")),
                          code="closes_before_opens", field="hours", details={"weekday": weekday})
        by_day.setdefault(weekday, []).append((opens, closes))
    for weekday, day_intervals in by_day.items():
        day_intervals.sort()
        for (_opens, previous_close), (opens, closes) in itertools.pairwise(day_intervals):
            if opens < previous_close:
                raise Invalid(_("Opening intervals of one day overlap (%(opens)s–%(closes)s).",
                                opens=opens.strftime("%H:%M"), closes=closes.strftime("%H:%M")),
                              code="hours_overlap", field="hours", details={"weekday": weekday})
    room.opening_hours = [OpeningHours(weekday=weekday, opens=opens, closes=closes)
                          for weekday in sorted(by_day) for opens, closes in by_day[weekday]]
    db.session.flush()
    audit.record("room_hours_changed", actor=actor, clinic_id=room.clinic_id, obj=room, details={"hours": [
        {"weekday": h.weekday, "open": h.opens.strftime("%H:%M"), "close": h.closes.strftime("%H:%M")}
        for h in room.opening_hours]})
    return room.opening_hours


def add_closure(actor, room, *, start, end, reason, now, cancel_affected=False):
    """Close a room from `start` to `end` (aware datetimes) for a stated reason; returns (closure, cancelled).

    Active bookings and training sessions the closure would cover are not left
    standing unnoticed: without `cancel_affected` the closure is refused with
    409 bookings_affected listing them (details["affected"]); with it they are
    cancelled and their doctors and trainers told. The features that own them
    answer `closure_planned` under the room's lock, so a booking made after the
    list was shown is found again (and cancelled) when the closure is confirmed.
    """
    _require_admin(actor, room.clinic_id)
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
    affected = [item for _receiver, items in closure_planned.send(
        room, start=start, end=end, reason=reason, actor=actor, now=now, cancel=cancel_affected) for item in items]
    if affected and not cancel_affected:
        raise _bookings_affected(affected)
    closure = Closure(room=room, start_at=start, end_at=end, reason=reason, created_by_id=getattr(actor, "id", None))
    db.session.add(closure)
    db.session.flush()
    audit.record("closure_added", actor=actor, clinic_id=room.clinic_id, obj=closure, details={
        "room_id": room.id, "start": start.isoformat(), "end": end.isoformat(), "reason": reason,
        "cancelled": [{"kind": item["kind"], "id": item["id"]} for item in affected]})
    return closure, affected


def _bookings_affected(affected):
    return Conflict(_("The closure covers active bookings or training sessions. Confirm to cancel them; their "
                      "doctors and trainers will be told."), code="bookings_affected", field="start",
                    details={"affected": affected})


def delete_closure(actor, closure):
    """Reopen a room: remove one closure."""
    _require_admin(actor, closure.room.clinic_id)
    audit.record("closure_removed", actor=actor, clinic_id=closure.room.clinic_id, obj=closure, details={
        "room_id": closure.room_id, "start": closure.start_at.isoformat(), "end": closure.end_at.isoformat(),
        "reason": closure.reason})
    db.session.delete(closure)
    db.session.flush()


def russian_non_working_days(year):
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


def add_public_holidays(actor, rooms, *, year, now, cancel_affected=False):
    """Close `rooms` on every Russian federal non-working day of `year`, in one step.

    Consecutive days become one closure (the New Year break is one line, not
    nine). Runs already covered by a closure are skipped, so running it twice
    adds nothing. Bookings and sessions on those days are handled as by
    `add_closure`, those of every room listed in one refusal. Returns (new closures, cancelled).
    """
    for room in rooms:
        _require_admin(actor, room.clinic_id)
    if isinstance(year, bool) or not isinstance(year, int) or not now.year - 1 <= year <= now.year + 2:
        raise Invalid(_("Choose a year from %(first)d to %(last)d.", first=now.year - 1, last=now.year + 2),
                      code="invalid_year", field="year")
    runs = _runs_of_days(russian_non_working_days(year))
    created, affected = [], []
    for room in rooms:
        for first, last, names in runs:
            start, end = local_day_bounds(room.timezone, first, last)
            covered = db.session.scalar(select(func.count()).select_from(Closure).where(
                Closure.room_id == room.id, Closure.start_at <= start, Closure.end_at >= end))
            if covered:
                continue
            reason = "; ".join(dict.fromkeys(names))[:200]
            try:
                closure, cancelled = add_closure(actor, room, start=start, end=end, reason=reason, now=now,
                                                 cancel_affected=cancel_affected)
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


# --- workstations ---------------------------------------------------------------------------

def _workstation_fields(room, label, specs, workstation_id=None):
    label = (label or "").strip()
    specs = (specs or "").strip()
    if not label or len(label) > 40:
        raise Invalid(_("Enter a label (up to 40 characters), e.g. PC-3."), code="invalid_label", field="label")
    if len(specs) > 2000:
        raise Invalid(_("The specs are too long (up to 2000 characters)."), code="invalid_specs", field="specs")
    same_label = select(func.count()).select_from(Workstation).where(
        Workstation.room_id == room.id, Workstation.label == label)
    if workstation_id is not None:
        same_label = same_label.where(Workstation.id != workstation_id)
    if db.session.scalar(same_label):
        raise Invalid(_("This room already has a workstation labelled %(label)s.", label=label),
                      code="label_taken", field="label")
    return label, specs


def create_workstation(actor, room, *, label, specs=""):
    """A new active workstation of `room`; labels are unique within the room."""
    _require_admin(actor, room.clinic_id)
    label, specs = _workstation_fields(room, label, specs)
    workstation = Workstation(room=room, label=label, specs=specs, status="active")
    db.session.add(workstation)
    db.session.flush()
    audit.record("workstation_created", actor=actor, clinic_id=room.clinic_id, obj=workstation,
                 details={"room_id": room.id, "label": label})
    return workstation


def update_workstation(actor, workstation, *, label, specs):
    """Relabel a workstation or change its specs."""
    _require_admin(actor, workstation.room.clinic_id)
    label, specs = _workstation_fields(workstation.room, label, specs, workstation_id=workstation.id)
    workstation.label, workstation.specs = label, specs
    db.session.flush()
    audit.record("workstation_updated", actor=actor, clinic_id=workstation.room.clinic_id, obj=workstation,
                 details={"label": label})
    return workstation


def set_workstation_status(actor, workstation, status, *, now):
    """Set `active | out_of_service | retired`; returns (moved, cancelled) future bookings.

    Booking rule 8: when an active workstation stops being bookable, its future
    bookings move to a free active workstation of the same room, else they are
    cancelled, and each doctor is told (the booking package does that part).
    """
    _require_admin(actor, workstation.room.clinic_id)
    if status not in WORKSTATION_STATUSES:
        raise Invalid(_("Choose a status: active, out of service or retired."), code="invalid_status",
                      field="status")
    previous = workstation.status
    if status == previous:
        return [], []
    workstation.status = status
    db.session.flush()
    moved, cancelled = [], []
    if previous == "active":
        for _receiver, (moved_here, cancelled_here) in workstation_left_service.send(workstation, actor=actor,
                                                                                      now=now):
            moved, cancelled = moved + moved_here, cancelled + cancelled_here
    audit.record("workstation_status_changed", actor=actor, clinic_id=workstation.room.clinic_id, obj=workstation,
                 details={"from": previous, "to": status, "moved": len(moved), "cancelled": len(cancelled)})
    return moved, cancelled


# --- equipment --------------------------------------------------------------------------------

def _check_status(status, allowed):
    if status not in allowed:
        raise Invalid(_("Unknown status: %(status)s.", status=status), code="invalid_status", field="status")


def _check_workstation_of_room(room, workstation):
    if workstation is not None and workstation.room_id != room.id:
        raise Invalid(_("The workstation belongs to another room."), code="invalid_workstation",
                      field="workstation_id")


def _history_entry(item, actor, from_status, note):
    item.history.append(EquipmentEvent(actor_id=getattr(actor, "id", None), from_status=from_status,
                                       to_status=item.status, note=note))


def _inventory_number_taken(inventory_number):
    return Invalid(_("Inventory number %(number)s is already registered.", number=inventory_number),
                   code="inventory_number_taken", field="inventory_number")


def create_equipment(actor, room, *, kind, inventory_number, workstation=None, notes="", status="in_service"):
    """Put an item on a room's inventory; its inventory number is unique across the city."""
    _require_admin(actor, room.clinic_id)
    kind = (kind or "").strip().lower()
    inventory_number = (inventory_number or "").strip()
    notes = (notes or "").strip()
    if not kind or len(kind) > 40:
        raise Invalid(_("Enter the kind of equipment (up to 40 characters)."), code="invalid_kind", field="kind")
    if not inventory_number or len(inventory_number) > 60:
        raise Invalid(_("Enter the inventory number (up to 60 characters)."), code="invalid_inventory_number",
                      field="inventory_number")
    _check_status(status, EQUIPMENT_STATUSES)
    _check_workstation_of_room(room, workstation)
    if db.session.scalar(select(func.count()).select_from(EquipmentItem).where(
            EquipmentItem.inventory_number == inventory_number)):
        raise _inventory_number_taken(inventory_number)
    item = EquipmentItem(room=room, workstation=workstation, kind=kind, inventory_number=inventory_number,
                         status=status, notes=notes)
    _history_entry(item, actor, None, "")
    try:
        # A concurrent insert of the same number passes the check above; the unique index catches it.
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        raise _inventory_number_taken(inventory_number) from None
    audit.record("equipment_created", actor=actor, clinic_id=room.clinic_id, obj=item,
                 details={"inventory_number": inventory_number, "kind": kind, "room_id": room.id})
    return item


def update_equipment(actor, item, *, status=None, notes=None, note=""):
    """Change an item's status and/or notes; every change leaves a history line with `note`.

    A note alone (no status change) is a repair note and is kept too.
    """
    _require_admin(actor, item.room.clinic_id)
    note = (note or "").strip()
    if len(note) > 2000:
        raise Invalid(_("The note is too long (up to 2000 characters)."), code="invalid_note", field="note")
    previous = item.status
    if status is not None:
        _check_status(status, EQUIPMENT_STATUSES)
        item.status = status
    notes_changed = notes is not None and notes.strip() != item.notes
    if notes_changed:
        item.notes = notes.strip()
    if item.status == previous and not notes_changed and not note:
        return item
    _history_entry(item, actor, previous, note)
    db.session.flush()
    audit.record("equipment_updated", actor=actor, clinic_id=item.room.clinic_id, obj=item, details={
        "inventory_number": item.inventory_number, "from": previous, "to": item.status, "note": note,
        "notes_changed": notes_changed})
    return item


def equipment_of_clinic(clinic_id, *, room_id=None, kind=None, status=None):
    """The inventory of a clinic, optionally narrowed by room, kind and status."""
    query = (select(EquipmentItem).join(Room, EquipmentItem.room_id == Room.id).where(Room.clinic_id == clinic_id)
             .order_by(Room.name, EquipmentItem.kind, EquipmentItem.inventory_number))
    if room_id:
        query = query.where(EquipmentItem.room_id == room_id)
    if kind:
        query = query.where(EquipmentItem.kind == kind)
    if status:
        query = query.where(EquipmentItem.status == status)
    return db.session.scalars(query).all()


def equipment_kinds(clinic_id):
    return db.session.scalars(
        select(EquipmentItem.kind).join(Room, EquipmentItem.room_id == Room.id)
        .where(Room.clinic_id == clinic_id).distinct().order_by(EquipmentItem.kind)).all()


# --- problem reports ---------------------------------------------------------------------------

# How a report is worked: forward only; a wrongly resolved fault gets a new report.
PROBLEM_TRANSITIONS = {"open": ("in_progress", "resolved"), "in_progress": ("resolved",), "resolved": ()}


def report_problem(actor, room, *, description, now, workstation=None, equipment=None):
    """Any signed-in user of the room's clinic reports a fault on a workstation or an item.

    The clinic's admins are told at once, so a broken computer is not found
    by the next doctor who booked it.
    """
    if not can_see_clinic(actor, room.clinic_id):
        raise NotAllowed(_("You can only report problems in rooms of your own clinic."))
    description = (description or "").strip()
    if workstation is None and equipment is None:
        raise Invalid(_("Choose the workstation or the equipment that has the problem."), code="missing_target",
                      field="target")
    _check_workstation_of_room(room, workstation)
    if equipment is not None and equipment.room_id != room.id:
        raise Invalid(_("The equipment belongs to another room."), code="invalid_equipment", field="equipment_id")
    if not description or len(description) > 2000:
        raise Invalid(_("Describe the problem (up to 2000 characters)."), code="invalid_description",
                      field="description")
    report = ProblemReport(room=room, workstation=workstation, equipment=equipment, reporter_id=actor.id,
                           description=description, created_at=now, updated_at=now)
    db.session.add(report)
    db.session.flush()
    audit.record("problem_reported", actor=actor, clinic_id=room.clinic_id, obj=report,
                 details={"room_id": room.id, "workstation_id": getattr(workstation, "id", None),
                          "equipment_id": getattr(equipment, "id", None)})
    notify_clinic_admins(room.clinic_id, "problem_reported",
                         lambda: (_("Problem reported: %(target)s", target=problem_target_label(report)),
                                  f"{room.name}: {description}"),
                         link=f"/admin/clinics/{room.clinic_id}/problem-reports", except_user_id=actor.id)
    return report


def problem_target_label(report):
    parts = []
    if report.workstation is not None:
        parts.append(report.workstation.label)
    if report.equipment is not None:
        parts.append(f"{kind_label(report.equipment.kind)} {report.equipment.inventory_number}")
    return " / ".join(parts) or "—"


def set_problem_status(actor, report, status, *, now, resolution=""):
    """Work a report `open → in_progress → resolved`; the reporter is told when it is resolved."""
    _require_admin(actor, report.room.clinic_id)
    _check_status(status, PROBLEM_STATUSES)
    resolution = (resolution or "").strip()
    if len(resolution) > 2000:
        raise Invalid(_("The resolution is too long (up to 2000 characters)."), code="invalid_resolution",
                      field="resolution")
    if status not in PROBLEM_TRANSITIONS[report.status]:
        raise Conflict(_("A report that is %(current)s cannot become %(wanted)s.",
                         current=status_label(report.status), wanted=status_label(status)),
                       code="invalid_transition", field="status")
    previous = report.status
    report.status = status
    report.updated_at = now
    if resolution:
        report.resolution = resolution
    if status == "resolved":
        report.resolved_at = now
        report.resolved_by_id = actor.id if actor is not None else None
        with in_language_of(report.reporter):
            notify(report.reporter, "problem_resolved",
                   _("Your problem report is resolved: %(target)s", target=problem_target_label(report)),
                   report.resolution or _("The administrator marked it as resolved."))
    db.session.flush()
    audit.record("problem_report_status_changed", actor=actor, clinic_id=report.room.clinic_id, obj=report,
                 details={"from": previous, "to": status})
    return report


def problem_reports_of_clinic(clinic_id, *, statuses=None, room_id=None):
    query = (select(ProblemReport).join(Room, ProblemReport.room_id == Room.id).where(Room.clinic_id == clinic_id)
             .order_by(ProblemReport.created_at, ProblemReport.id))
    if statuses:
        query = query.where(ProblemReport.status.in_(statuses))
    if room_id:
        query = query.where(ProblemReport.room_id == room_id)
    return db.session.scalars(query).all()


def problem_reports_of_reporter(user, *, statuses=None, room_id=None):
    query = (select(ProblemReport).where(ProblemReport.reporter_id == user.id)
             .order_by(ProblemReport.created_at, ProblemReport.id))
    if statuses:
        query = query.where(ProblemReport.status.in_(statuses))
    if room_id:
        query = query.where(ProblemReport.room_id == room_id)
    return db.session.scalars(query).all()


def clinic_by_short_name(short_name):
    return db.session.scalar(select(Clinic).where(Clinic.short_name == short_name))
