"""The room schedule as a grid: workstations as rows, the slot grid (or hours, for a week) as columns;
and, for small screens, each workstation's free times as one-tap slots."""

from dataclasses import dataclass, field
from datetime import timedelta

from portal.booking.availability import local_day_range, overlaps
from portal.core.time import to_local


@dataclass(frozen=True)
class Column:
    """One time column, with its local labels worked out once for every row."""

    start: object
    end: object
    label: str  # "10:00"
    end_label: str  # "11:00"
    local_start: str  # "2026-03-02T10:00", for booking links
    local_end: str


LINKED_STATES = ("own", "free", "partial")


@dataclass
class Cell:
    column: Column
    state: str
    booking_id: int | None = None  # the viewer's own booking in this cell
    who: str | None = None  # who booked (admins and trainers only)
    free_start: str | None = None  # the bookable part (local ISO), for the booking link
    free_end: str | None = None
    span: int = 1  # columns taken: neighbours nobody can act on are drawn as one cell

    def joins(self, other):
        """`other` continues this cell: the same state, nothing to link to, the same people."""
        return self.state == other.state and self.state not in LINKED_STATES and self.who == other.who


@dataclass
class Day:
    date: object
    columns: list = field(default_factory=list)  # Column per cell


@dataclass
class Row:
    workstation_id: int
    label: str
    status: str
    cells: list = field(default_factory=list)  # one list of Cells per Day


def build_grid(state, days, cell_minutes, now, viewer_id, names=None):
    """Classify every cell of every workstation; `names` maps user ids to names for admins."""
    room = state.room
    day_columns = [Day(date=day, columns=_columns(state, day, cell_minutes)) for day in days]
    rows = []
    blocks_training = state.whole_room_sessions
    blocks_closure = [(s, e) for s, e, _reason in state.closures]
    for workstation_id, label, status in state.workstations:
        free = state.free(workstation_id, now) if status == "active" else []
        bookings = state.bookings_of(workstation_id)
        row = Row(workstation_id, label, status)
        for day in day_columns:
            row.cells.append(
                _joined(
                    [
                        _cell(
                            column,
                            status,
                            free,
                            bookings,
                            blocks_training,
                            blocks_closure,
                            state.windows,
                            viewer_id,
                            names,
                            room.timezone,
                        )
                        for column in day.columns
                    ]
                )
            )
        rows.append(row)
    return {"days": day_columns, "rows": rows, "tz": room.timezone}


def _joined(cells):
    joined = []
    for cell in cells:
        if joined and joined[-1].joins(cell):
            joined[-1].span += 1
        else:
            joined.append(cell)
    return joined


def free_per_day(grid):
    """How many workstations have free time, per shown day (the week as a list on small screens)."""
    return [
        sum(any(cell.state in ("free", "partial") for cell in row.cells[index]) for row in grid["rows"])
        for index in range(len(grid["days"]))
    ]


@dataclass
class PhoneRow:
    """One workstation on a small screen: the viewer's own bookings and the free times, a tap each."""

    workstation_id: int
    label: str
    status: str
    own: list = field(default_factory=list)  # BusyBooking
    slots: list = field(default_factory=list)  # (start, end) UTC


def phone_rows(state, now, viewer_id, slot_minutes):
    """Each free interval cut into `slot_minutes` pieces from its start (a shorter last piece if the
    room allows that length): what a thumb can book at once."""
    room, step = state.room, timedelta(minutes=slot_minutes)
    rows = []
    for workstation_id, label, status in state.workstations:
        row = PhoneRow(
            workstation_id, label, status, own=[b for b in state.bookings_of(workstation_id) if b.user_id == viewer_id]
        )
        for start, end in state.free(workstation_id, now) if status == "active" else []:
            while end - start >= timedelta(minutes=room.min_minutes):
                row.slots.append((start, min(start + step, end)))
                start += step
        rows.append(row)
    return rows


def _columns(state, day, cell_minutes):
    """Cells from the earliest opening to the latest closing of the shown days, so days line up."""
    day_start, _day_end = local_day_range(state.room, day)
    first, last = _visible_span(state) or (timedelta(hours=8), timedelta(hours=20))
    step = timedelta(minutes=cell_minutes)
    columns, cursor = [], day_start + first
    while cursor < day_start + last:
        start, end = to_local(cursor, state.room.timezone), to_local(cursor + step, state.room.timezone)
        columns.append(
            Column(
                cursor,
                cursor + step,
                f"{start:%H:%M}",
                f"{end:%H:%M}",
                f"{start:%Y-%m-%dT%H:%M}",
                f"{end:%Y-%m-%dT%H:%M}",
            )
        )
        cursor += step
    return columns


def _visible_span(state):
    """Offsets from local midnight of the earliest opening and the latest closing in the range."""
    offsets = []
    for start, end in state.windows:
        local_start = to_local(start, state.room.timezone)
        midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        offsets.append((local_start - midnight, to_local(end, state.room.timezone) - midnight))
    if not offsets:
        return None
    earliest = min(o[0] for o in offsets)
    latest = max(o[1] for o in offsets)
    hour = timedelta(hours=1)
    return (earliest // hour) * hour, -((-latest) // hour) * hour


def _local_iso(value, tz):
    return f"{to_local(value, tz):%Y-%m-%dT%H:%M}"


def _cell(column, status, free, bookings, trainings, closures, windows, viewer_id, names, tz):
    start, end = column.start, column.end
    if status != "active":
        return Cell(column, "unavailable")
    touching = [b for b in bookings if b.start < end and start < b.end]
    own = next((b for b in touching if b.user_id == viewer_id), None)
    if own is not None:
        return Cell(column, "own", booking_id=own.id)
    fitting = [(max(s, start), min(e, end)) for s, e in free if s < end and start < e]
    if fitting:
        if fitting[0] == (start, end):
            return Cell(column, "free", free_start=column.local_start, free_end=column.local_end)
        return Cell(column, "partial", free_start=_local_iso(fitting[0][0], tz), free_end=_local_iso(fitting[0][1], tz))
    if touching:
        who = ", ".join(names.get(b.user_id, "") for b in touching) if names is not None else None
        return Cell(column, "busy", who=who)
    if overlaps(start, end, trainings):
        return Cell(column, "training")
    if overlaps(start, end, closures):
        return Cell(column, "closure")
    if not overlaps(start, end, windows):
        return Cell(column, "closed")
    return Cell(column, "past")
