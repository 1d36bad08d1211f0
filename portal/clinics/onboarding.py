"""Onboarding many polyclinics at once: clinics, their rooms and workstations from one CSV file.

One row per workstation (or per room, or per clinic, with the later columns
empty). Clinics are matched by `clinic_code`, rooms by their name within the
clinic, workstations by their label within the room, so importing the same file
again changes nothing. An empty cell keeps what the portal has (or the default
for something new). Every row goes through the same services as the web pages;
the caller commits only when no row was refused (all rows or none) and rolls
back after a dry run.
"""

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from portal.clinics import inventory, services
from portal.clinics.models import Room, Workstation
from portal.core.errors import DomainError, Invalid
from portal.extensions import db

COLUMNS = (
    "clinic_code",
    "clinic_name",
    "clinic_short_name",
    "address",
    "timezone",
    "room",
    "room_location",
    "room_capacity",
    "workstation",
    "workstation_specs",
)
CLINIC_COLUMNS = {
    "clinic_name": "name",
    "clinic_short_name": "short_name",
    "address": "address",
    "timezone": "timezone",
}
ROOM_COLUMNS = {"room_location": "location", "room_capacity": "capacity"}


@dataclass
class Change:
    """One thing an import creates or changes; `fields` holds {name: (before, after)} of an update."""

    action: str  # "create" | "update"
    kind: str  # "clinic" | "room" | "workstation"
    label: str
    fields: dict = field(default_factory=dict)

    def describe(self):
        names = {"clinic": _("clinic"), "room": _("room"), "workstation": _("workstation")}
        if self.action == "create":
            return _("create %(kind)s %(label)s", kind=names[self.kind], label=self.label)
        details = "; ".join(
            f"{name}: {before or '—'} → {after or '—'}" for name, (before, after) in self.fields.items()
        )
        return _("change %(kind)s %(label)s (%(details)s)", kind=names[self.kind], label=self.label, details=details)


@dataclass
class _Seen:
    """What earlier rows of the file said about one clinic or room: later rows must not contradict it."""

    row: int
    values: dict


def import_clinics(actor, text):
    """Apply the CSV `text`; returns (changes, problems). Problems name each bad row and why."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in ("clinic_code",) if column not in (reader.fieldnames or [])]
    unknown = [column for column in (reader.fieldnames or []) if column and column not in COLUMNS]
    if missing or unknown:
        return [], [_("header: expected the columns %(columns)s", columns=", ".join(COLUMNS))]
    importer = _Importer(actor)
    problems = []
    for number, row in enumerate(reader, start=2):
        cells = {column: (row.get(column) or "").strip() for column in COLUMNS}
        if not any(cells.values()):
            continue
        try:
            importer.row(number, cells)
        except DomainError as error:
            problems.append(_("row %(n)d: %(why)s", n=number, why=error.message))
    return importer.changes, problems


class _Importer:
    def __init__(self, actor):
        self.actor = actor
        self.changes = []
        self.clinics, self.rooms = {}, {}
        self.seen = {}

    def row(self, number, cells):
        # Each row in a savepoint: a refused row leaves nothing half-written for the rows after it.
        with db.session.begin_nested():
            clinic = self._clinic(number, cells)
            room = self._room(number, cells, clinic) if cells["room"] else None
            if cells["workstation"]:
                if room is None:
                    raise Invalid(_("a workstation needs its room (the room column is empty)"), field="room")
                self._workstation(cells, room)
        self.clinics[clinic.code] = clinic
        if room is not None:
            self.rooms[(clinic.code, room.name)] = room

    def _agrees(self, key, number, values):
        """Non-empty values must match what an earlier row said about the same clinic or room."""
        seen = self.seen.get(key)
        if seen is None:
            self.seen[key] = _Seen(number, dict(values))
            return
        for name, value in values.items():
            if seen.values.setdefault(name, value) != value:
                raise Invalid(_("%(column)s differs from row %(row)d", column=name, row=seen.row), field=name)

    def _clinic(self, number, cells):
        code = cells["clinic_code"]
        if not code:
            raise Invalid(_("the clinic code is empty"), field="clinic_code")
        values = {name: cells[column] for column, name in CLINIC_COLUMNS.items() if cells[column]}
        self._agrees(("clinic", code), number, values)
        clinic = self.clinics.get(code) or services.clinic_by_code(code)
        if clinic is None:
            clinic = services.create_clinic(self.actor, **{"name": None, "short_name": None, **values, "code": code})
            self.changes.append(Change("create", "clinic", f"{code} {clinic.short_name}"))
        elif values:
            changed = services.update_clinic(self.actor, clinic, values)
            if changed:
                self.changes.append(Change("update", "clinic", f"{code} {clinic.short_name}", changed))
        return clinic

    def _room(self, number, cells, clinic):
        values = {"location": cells["room_location"]} if cells["room_location"] else {}
        if cells["room_capacity"]:
            if not cells["room_capacity"].isdigit():
                raise Invalid(_("the room capacity must be a whole number"), field="room_capacity")
            values["capacity"] = int(cells["room_capacity"])
        self._agrees(("room", clinic.code, cells["room"]), number, values)
        label = f"{clinic.short_name} / {cells['room']}"
        room = self.rooms.get((clinic.code, cells["room"])) or db.session.scalar(
            select(Room).where(Room.clinic_id == clinic.id, Room.name == cells["room"])
        )
        if room is None:
            room = services.create_room(self.actor, clinic, name=cells["room"], **values)
            self.changes.append(Change("create", "room", label))
            return room
        changed = {name: (getattr(room, name), value) for name, value in values.items() if getattr(room, name) != value}
        if changed:
            current = {"name": room.name, "location": room.location, "capacity": room.capacity}
            services.update_room(self.actor, room, **{**current, **values})
            self.changes.append(Change("update", "room", label, changed))
        return room

    def _workstation(self, cells, room):
        label = f"{room.clinic.short_name} / {room.name} / {cells['workstation']}"
        workstation = db.session.scalar(
            select(Workstation).where(Workstation.room_id == room.id, Workstation.label == cells["workstation"])
        )
        if workstation is None:
            inventory.create_workstation(self.actor, room, label=cells["workstation"], specs=cells["workstation_specs"])
            self.changes.append(Change("create", "workstation", label))
        elif cells["workstation_specs"] and cells["workstation_specs"] != workstation.specs:
            before = workstation.specs
            inventory.update_workstation(
                self.actor, workstation, label=workstation.label, specs=cells["workstation_specs"]
            )
            self.changes.append(Change("update", "workstation", label, {"specs": (before, workstation.specs)}))
