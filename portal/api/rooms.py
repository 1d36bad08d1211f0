"""Admin: a room's details, booking policy, opening hours, closures and workstations."""

import re
from datetime import time
from typing import Annotated, Literal

from flask import jsonify
from flask_login import current_user
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from portal.api.blueprint import bp
from portal.api.clinics import Room, serialise_room
from portal.api.helpers import items
from portal.api.schema import Answer, Body, Count, Time, Timestamp, answers, api, documented, items_of, omittable
from portal.clinics import inventory, models, services, timetable
from portal.clinics.models import DEFAULT_POLICY, WORKSTATION_STATUSES
from portal.clinics.permissions import get_administered_or_404
from portal.core.db import utcnow
from portal.core.time import iso

CLOCK_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _clock(value):
    if not isinstance(value, str) or not re.fullmatch(CLOCK_PATTERN, value):
        raise PydanticCustomError("invalid_clock", "invalid_clock")
    return time.fromisoformat(value)


Clock = Annotated[time, BeforeValidator(_clock), WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN})]
WorkstationStatus = Annotated[str, documented(enum=list(WORKSTATION_STATUSES))]


class OpeningIntervalIn(Body):
    weekday: Annotated[int, documented(minimum=0, maximum=6, description="Monday is 0")]
    open: Clock
    close: Clock


class OpeningHoursIn(Body):
    hours: list[OpeningIntervalIn]


class OpeningInterval(Answer):
    weekday: int
    open: str
    close: str


class OpeningHours(Answer):
    hours: list[OpeningInterval]
    timezone: str


class Closure(Answer):
    id: int
    room_id: int
    start: Time
    end: Time
    reason: str


class AffectedByClosure(Answer):
    """An active booking or a scheduled session a closure covers (in a 409 bookings_affected they are
    listed in error.affected)."""

    kind: Literal["booking", "training"]
    id: int
    start: Time
    end: Time
    workstation_id: int = omittable()
    workstation: str = omittable()
    user: str | None = Field(None, description="booking: who booked")
    title: str = omittable(description="training: the course")
    trainer: str | None = Field(None, description="training: who runs it")
    enrolled: int = omittable(description="training: doctors enrolled")


class NewClosureAnswer(Closure):
    cancelled: list[AffectedByClosure] = Field(description="what adding the closure cancelled")


class HolidayClosures(Answer):
    items: list[Closure]
    cancelled: list[AffectedByClosure] = Field(description="what adding the closures cancelled")


CANCEL_AFFECTED = (
    "active bookings or scheduled sessions in the way: without it 409 bookings_affected lists them "
    "in error.affected; with true they are cancelled and each doctor and trainer told"
)


class NewClosure(Body):
    start: Timestamp
    end: Timestamp
    reason: Annotated[str, documented(maxLength=200)]
    cancel_affected: bool = Field(False, description=CANCEL_AFFECTED)


class HolidayYear(Body):
    year: Annotated[int, documented(description="last year, this year or the next two")]
    cancel_affected: bool = Field(False, description=CANCEL_AFFECTED)


class RoomChange(Body):
    name: str = omittable()
    location: str = omittable()
    capacity: Count = omittable(description="training seats")


class _KnownSettingsOnly(Body):
    model_config = ConfigDict(strict=True, extra="forbid")


# Settings not sent keep their values; the service checks each (invalid_policy).
PolicyChange = create_model(
    "PolicyChange",
    __base__=_KnownSettingsOnly,
    **{
        name: (Annotated[int, documented(minimum=low, maximum=high)], omittable())
        for name, (low, high) in timetable.POLICY_LIMITS.items()
    },
)
Policy = create_model("Policy", __base__=Answer, **dict.fromkeys(DEFAULT_POLICY, (int, ...)))


class Workstation(Answer):
    id: int
    room_id: int
    label: str
    specs: str
    status: WorkstationStatus


class WorkstationChanged(Workstation):
    moved_bookings: list[int]
    cancelled_bookings: list[int]


class NewWorkstation(Body):
    label: Annotated[str, documented(maxLength=40)]
    specs: str = ""


class WorkstationChange(Body):
    label: str = omittable()
    specs: str = omittable()
    status: WorkstationStatus = omittable()


def serialise_hours(room):
    return [
        {"weekday": h.weekday, "open": h.opens.strftime("%H:%M"), "close": h.closes.strftime("%H:%M")}
        for h in room.opening_hours
    ]


def serialise_closure(closure):
    tz = closure.room.timezone
    return {
        "id": closure.id,
        "room_id": closure.room_id,
        "start": iso(closure.start_at, tz),
        "end": iso(closure.end_at, tz),
        "reason": closure.reason,
    }


def serialise_workstation(workstation):
    return {
        "id": workstation.id,
        "room_id": workstation.room_id,
        "label": workstation.label,
        "specs": workstation.specs,
        "status": workstation.status,
    }


@bp.patch("/rooms/<int:room_id>")
@api.validate(resp=answers(403, 404, 413, HTTP_200=(Room, "The room")))
def update_room(room_id, json: RoomChange):
    """Change a room's name, location or training capacity (admin)"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    services.update_room(
        current_user,
        room,
        name=room.name if json.name is None else json.name,
        location=room.location if json.location is None else json.location,
        capacity=room.capacity if json.capacity is None else json.capacity,
    )
    return jsonify(serialise_room(room))


@bp.patch("/rooms/<int:room_id>/policy")
@api.validate(resp=answers(403, 404, 413, HTTP_200=(Policy, "The whole policy")))
def update_policy(room_id, json: PolicyChange):
    """Change a room's booking policy (admin); settings not sent keep their values"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    timetable.update_policy(current_user, room, json.model_dump(exclude_unset=True))
    return jsonify(room.policy())


@bp.get("/rooms/<int:room_id>/hours")
@api.validate(resp=answers(403, 404, HTTP_200=(OpeningHours, "Opening hours")))
def get_hours(room_id):
    """Weekly opening hours, clinic's local time (admin)"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    return jsonify(hours=serialise_hours(room), timezone=room.timezone)


@bp.put("/rooms/<int:room_id>/hours")
@api.validate(resp=answers(403, 404, 413, HTTP_200=(OpeningHours, "Opening hours")))
def put_hours(room_id, json: OpeningHoursIn):
    """Replace the weekly opening hours (admin); several intervals a weekday allowed"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    timetable.set_opening_hours(current_user, room, [(row.weekday, row.open, row.close) for row in json.hours])
    return jsonify(hours=serialise_hours(room), timezone=room.timezone)


@bp.get("/rooms/<int:room_id>/closures")
@api.validate(resp=answers(403, 404, HTTP_200=(items_of(Closure), "Closures")))
def list_closures(room_id):
    """A room's closures (admin)"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    return jsonify(items(timetable.closures_of_room(room), serialise_closure))


@bp.post("/rooms/<int:room_id>/closures")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_201=(NewClosureAnswer, "The closure")))
def create_closure(room_id, json: NewClosure):
    """Close a room for a time (admin)

    Over active bookings or scheduled sessions: 409 bookings_affected, listing them in error.affected; with
    cancel_affected: true the closure is created and they are cancelled, each doctor and trainer told.
    """
    room = get_administered_or_404(models.Room, room_id, current_user)
    closure, cancelled = timetable.add_closure(
        current_user,
        room,
        start=json.start,
        end=json.end,
        reason=json.reason,
        now=utcnow(),
        cancel_affected=json.cancel_affected,
    )
    return jsonify({**serialise_closure(closure), "cancelled": cancelled}), 201


@bp.post("/rooms/<int:room_id>/closures/public-holidays")
@api.validate(resp=answers(403, 404, 409, 413, HTTP_201=(HolidayClosures, "The closures added")))
def create_holiday_closures(room_id, json: HolidayYear):
    """Close a room on every Russian federal non-working day of a year (admin; repeat-safe)

    Bookings and sessions on those days are handled as by POST /rooms/{room_id}/closures.
    """
    room = get_administered_or_404(models.Room, room_id, current_user)
    closures, cancelled = timetable.add_public_holidays(
        current_user, [room], year=json.year, now=utcnow(), cancel_affected=json.cancel_affected
    )
    return jsonify(items(closures, serialise_closure, cancelled=cancelled)), 201


@bp.delete("/closures/<int:closure_id>")
@api.validate(resp=answers(403, 404, HTTP_204=None))
def delete_closure(closure_id):
    """Remove a closure (admin)"""
    closure = get_administered_or_404(models.Closure, closure_id, current_user)
    timetable.delete_closure(current_user, closure)
    return "", 204


@bp.get("/rooms/<int:room_id>/workstations")
@api.validate(resp=answers(403, 404, HTTP_200=(items_of(Workstation), "Workstations")))
def list_workstations(room_id):
    """Workstations of a room (admin)"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    return jsonify(items(room.workstations, serialise_workstation))


@bp.post("/rooms/<int:room_id>/workstations")
@api.validate(resp=answers(403, 404, 413, HTTP_201=(Workstation, "The workstation")))
def create_workstation(room_id, json: NewWorkstation):
    """Add a workstation (admin)"""
    room = get_administered_or_404(models.Room, room_id, current_user)
    workstation = inventory.create_workstation(current_user, room, label=json.label, specs=json.specs)
    return jsonify(serialise_workstation(workstation)), 201


@bp.patch("/workstations/<int:workstation_id>")
@api.validate(
    resp=answers(403, 404, 413, HTTP_200=(WorkstationChanged, "The workstation, with the bookings moved and cancelled"))
)
def update_workstation(workstation_id, json: WorkstationChange):
    """Relabel a workstation or change its status (admin)

    Taking it out of service moves its future bookings to a free active workstation of the room,
    else cancels them.
    """
    workstation = get_administered_or_404(models.Workstation, workstation_id, current_user)
    if json.label is not None or json.specs is not None:
        inventory.update_workstation(
            current_user,
            workstation,
            label=workstation.label if json.label is None else json.label,
            specs=workstation.specs if json.specs is None else json.specs,
        )
    moved, cancelled = [], []
    if json.status is not None:
        moved, cancelled = inventory.set_workstation_status(current_user, workstation, json.status, now=utcnow())
    return jsonify(
        {
            **serialise_workstation(workstation),
            "moved_bookings": [b.id for b in moved],
            "cancelled_bookings": [b.id for b in cancelled],
        }
    )
