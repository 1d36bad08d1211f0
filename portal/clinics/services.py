"""Clinics and their rooms: the rules (a room's timetable, inventory and faults have modules of their own).

Every function takes the acting user (`actor`; None means the command line,
which is trusted), checks the permission again, raises portal.core.errors on
a broken rule and only flushes: the caller commits once or rolls back.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.clinics import signals
from portal.clinics.models import Clinic, Room
from portal.clinics.permissions import require_clinic_admin
from portal.core import audit
from portal.core.errors import Invalid, NotAllowed
from portal.core.permissions import Actor, is_superadmin
from portal.core.time import is_valid_timezone
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
        raise Invalid(
            _("The code is up to 40 letters, digits or - _ . / without spaces."), code="invalid_code", field="code"
        )
    if len(address) > 300:
        raise Invalid(_("The address is too long (up to 300 characters)."), code="invalid_address", field="address")
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


def create_clinic(
    actor: Actor | None,
    *,
    name: str,
    short_name: str,
    timezone: str | None = None,
    address: str = "",
    code: str | None = None,
) -> Clinic:
    """Only a superadmin (or the command line, actor None) creates clinics."""
    _require_superadmin(actor, _("Only a city administrator can create clinics."))
    fields = _clinic_fields(name=name, short_name=short_name, code=code, address=address, timezone=timezone)
    clinic = Clinic(**fields)
    _flush_clinic(clinic)
    audit.record("clinic_created", actor=actor, clinic_id=clinic.id, obj=clinic, details=fields)
    return clinic


def update_clinic(actor: Actor | None, clinic: Clinic, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
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
    audit.record(
        "clinic_updated",
        actor=actor,
        clinic_id=clinic.id,
        obj=clinic,
        details={name: {"before": before, "after": after} for name, (before, after) in changed.items()},
    )
    return changed


def set_clinic_active(actor: Actor | None, clinic: Clinic, active: bool, *, now: datetime) -> Clinic:
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


def _room_fields(clinic_id, name, location, capacity, room_id=None):
    """Check a room's name, location and capacity; returns the cleaned values."""
    name = (name or "").strip()
    location = (location or "").strip()
    if not name or len(name) > 120:
        raise Invalid(_("Enter the room's name (up to 120 characters)."), code="invalid_name", field="name")
    if len(location) > 200:
        raise Invalid(_("The location is too long (up to 200 characters)."), code="invalid_location", field="location")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 500:
        raise Invalid(_("Capacity must be a whole number from 0 to 500."), code="invalid_capacity", field="capacity")
    same_name = select(func.count()).select_from(Room).where(Room.clinic_id == clinic_id, Room.name == name)
    if room_id is not None:
        same_name = same_name.where(Room.id != room_id)
    if db.session.scalar(same_name):
        raise Invalid(_("This clinic already has a room with this name."), code="name_taken", field="name")
    return name, location, capacity


def create_room(actor: Actor | None, clinic: Clinic, *, name: str, location: str = "", capacity: int = 0) -> Room:
    """A new room of `clinic` with the default booking policy (and no opening hours yet)."""
    require_clinic_admin(actor, clinic.id)
    name, location, capacity = _room_fields(clinic.id, name, location, capacity)
    room = Room(clinic=clinic, name=name, location=location, capacity=capacity)
    db.session.add(room)
    db.session.flush()
    audit.record("room_created", actor=actor, clinic_id=clinic.id, obj=room)
    return room


def update_room(actor: Actor | None, room: Room, *, name: str, location: str, capacity: int) -> Room:
    """Rename a room, move it, or change its training seat capacity."""
    require_clinic_admin(actor, room.clinic_id)
    name, location, capacity = _room_fields(room.clinic_id, name, location, capacity, room_id=room.id)
    before = {"name": room.name, "location": room.location, "capacity": room.capacity}
    room.name, room.location, room.capacity = name, location, capacity
    db.session.flush()
    audit.record(
        "room_updated",
        actor=actor,
        clinic_id=room.clinic_id,
        obj=room,
        details={"before": before, "after": {"name": name, "location": location, "capacity": capacity}},
    )
    return room


def set_room_active(actor: Actor | None, room: Room, active: bool, *, now: datetime) -> Room:
    """Withdraw a room (its future bookings and trainings are cancelled, each person told) or bring it back.

    A withdrawn room keeps its history for the reports but is offered for nothing new.
    """
    require_clinic_admin(actor, room.clinic_id)
    if room.active == active:
        return room
    room.active = active
    db.session.flush()
    if not active:
        signals.room_withdrawn.send(room, actor=actor, now=now)
    audit.record("room_activated" if active else "room_deactivated", actor=actor, clinic_id=room.clinic_id, obj=room)
    return room


def visible_clinics(user: Actor, *, include_inactive: bool = False) -> Sequence[Clinic]:
    """The clinics a user may choose from: their own, or every clinic for a superadmin.

    Deactivated clinics are left out unless `include_inactive` (the city's administration pages).
    """
    query = select(Clinic).order_by(Clinic.name).options(selectinload(Clinic.rooms))
    if not is_superadmin(user):
        query = query.where(Clinic.id == user.clinic_id)
    if not include_inactive:
        query = query.where(Clinic.active.is_(True))
    return db.session.scalars(query).all()


def rooms_of_clinic(clinic_id: int) -> Sequence[Room]:
    """The rooms of a clinic that take bookings and trainings (withdrawn rooms are left out)."""
    return db.session.scalars(
        select(Room).where(Room.clinic_id == clinic_id, Room.active.is_(True)).order_by(Room.name)
    ).all()


def clinic_by_code(code: str | None) -> Clinic | None:
    return db.session.scalar(select(Clinic).where(Clinic.code == code)) if code else None


def bookable_rooms(clinic: Clinic) -> list[Room]:
    """The rooms of an active clinic that take bookings and trainings."""
    return [room for room in clinic.rooms if room.active] if clinic.active else []


def clinic_by_short_name(short_name: str) -> Clinic | None:
    return db.session.scalar(select(Clinic).where(Clinic.short_name == short_name))
