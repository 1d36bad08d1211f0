"""GET /rooms/{id}/availability: the hot path of the portal.

Answers are kept under the room's version (see portal.booking.cache for why
they are never stale), in the process and, with Redis, shared: then the request
costs one statement, which reads the caller's token and the room's version
together (portal.auth.read_with_caller), however many bookings exist.
"""

import json
from typing import Literal

from flask import Response
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.schema import Answer, Query, QueryDay, Time, answers, api, omittable, query_int
from portal.auth import read_along, read_with_caller
from portal.booking import cache, queries
from portal.booking.availability import availability_document, grid_ceil, load_room_state, local_day_range
from portal.clinics.models import WORKSTATION_STATUSES, Room
from portal.core.db import reads_only, utcnow
from portal.core.time import to_local
from portal.extensions import db

MAX_DAYS = 31


class Span(Answer):
    start: Time
    end: Time


class Busy(Span):
    kind: Literal["booking", "training", "closure", "closed"]


class ClosureSpan(Span):
    reason: str


class WorkstationAvailability(Answer):
    id: int
    label: str
    status: Literal[WORKSTATION_STATUSES]
    busy: list[Busy]
    free: list[Span] = Field(description="Bookable intervals: on the grid, open, not past, inside the horizon")


class SessionSpan(Span):
    id: int
    title: str
    whole_room: bool
    capacity: int
    seats_left: int


class AvailabilityRoom(Answer):
    id: int
    name: str
    timezone: str
    clinic_id: int


class Availability(Answer):
    room: AvailabilityRoom
    since: Time = Field(alias="from")
    until: Time = Field(alias="to")
    slot_minutes: int
    min_minutes: int
    max_minutes: int
    opening_hours: list[Span]
    closures: list[ClosureSpan]
    workstations: list[WorkstationAvailability]
    sessions: list[SessionSpan]


class AvailabilityQuery(Query):
    date: QueryDay = omittable(description="First local day (default: today in the room's time zone)")
    days: query_int(1, MAX_DAYS) = Field(1)


@bp.get("/rooms/<int:room_id>/availability")
@reads_only
@read_with_caller(queries.room_at_version_read_for_any_caller)
@api.validate(resp=answers(404, HTTP_200=(Availability, "Availability")))
def get_room_availability(room_id, query: AvailabilityQuery):
    """Busy and free intervals of every workstation of a room"""
    gate = queries.visible_room_at_version(current_user, room_id, read_along(), with_unread=False)
    now = utcnow()
    first_day = query.date or to_local(now, gate.timezone).date()

    def compute():
        room = db.session.get(Room, room_id)
        start, end = local_day_range(room, first_day, query.days)
        document = availability_document(load_room_state(room, start, end), now)
        # Free times start at the next grid line: the answer holds until the clock reaches it.
        return json.dumps(document, ensure_ascii=False), grid_ceil(now, room).timestamp()

    text = cache.get_or_compute(
        room_id, f"availability:{first_day.isoformat()}:{query.days}", compute, version=gate.version
    )
    return Response(text, mimetype="application/json")
