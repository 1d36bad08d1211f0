"""Clinics, rooms with their schedule and booking policy, workstations, equipment and problem reports."""

from datetime import datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db

WORKSTATION_STATUSES = ("active", "out_of_service", "retired")

# The spec's defaults for a room's booking policy.
DEFAULT_POLICY = {
    "slot_minutes": 15,
    "min_minutes": 15,
    "max_minutes": 240,
    "horizon_days": 14,
    "max_active": 3,
    "max_daily_minutes": 240,
    "checkin_grace_minutes": 15,
}


class Clinic(db.Model):
    __tablename__ = "clinics"
    # A unique index rather than a constraint: SQLite adds it without rebuilding the table.
    __table_args__ = (Index("uq_clinics_code", "code", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    short_name: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    # The polyclinic's code in the city's systems; the identity provider's clinic claim is matched to it.
    code: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow", nullable=False)
    # A deactivated clinic leaves every choice; its people cannot sign in until it is active again.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    rooms = relationship("Room", back_populates="clinic", order_by="Room.name")


class RoomVersion(db.Model):
    """A number that changes, in the same transaction, with everything that shapes a room's availability
    (portal.booking.cache): one indexed read tells any process whether an answer it keeps is still exact.

    A table of its own rather than a column of rooms: bookings hold the room's row lock shared while
    they run (portal.booking.locks), and two of them raising a column of that row would deadlock.
    """

    __tablename__ = "room_versions"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("clinic_id", "name"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("slot_minutes > 0 AND min_minutes > 0 AND max_minutes >= min_minutes", name="policy_lengths"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    location: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    capacity: Mapped[int] = mapped_column(default=0, nullable=False)
    # A deactivated room is kept with its history but offered for nothing new.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), nullable=False)
    # Secret for the read-only door display page (hash kept; the URL is shown to admins once).
    display_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    slot_minutes: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_POLICY["slot_minutes"], nullable=False)
    min_minutes: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_POLICY["min_minutes"], nullable=False)
    max_minutes: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_POLICY["max_minutes"], nullable=False)
    horizon_days: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_POLICY["horizon_days"], nullable=False)
    max_active: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_POLICY["max_active"], nullable=False)
    max_daily_minutes: Mapped[int] = mapped_column(
        SmallInteger, default=DEFAULT_POLICY["max_daily_minutes"], nullable=False
    )
    checkin_grace_minutes: Mapped[int] = mapped_column(
        SmallInteger, default=DEFAULT_POLICY["checkin_grace_minutes"], nullable=False
    )

    clinic = relationship("Clinic", back_populates="rooms", lazy="joined")
    opening_hours = relationship(
        "OpeningHours",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
        cascade="all, delete-orphan",
        back_populates="room",
    )
    workstations = relationship("Workstation", order_by="Workstation.label", back_populates="room")

    @property
    def timezone(self):
        return self.clinic.timezone

    @property
    def is_active(self):
        """Offered for bookings and trainings: the room and its clinic are both active."""
        return self.active and self.clinic.active

    def policy(self):
        return {name: getattr(self, name) for name in DEFAULT_POLICY}


class OpeningHours(db.Model):
    """One open interval on one weekday (0 = Monday), in the clinic's local time."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("closes > opens", name="closes_after_opens"),
        Index("ix_opening_hours_room_weekday", "room_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    opens: Mapped[time] = mapped_column(Time, nullable=False)
    closes: Mapped[time] = mapped_column(Time, nullable=False)

    room = relationship("Room", back_populates="opening_hours")


class Closure(db.Model):
    __tablename__ = "closures"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        Index("ix_closures_room_start", "room_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    room = relationship("Room")


class Workstation(db.Model):
    __tablename__ = "workstations"
    __table_args__ = (
        UniqueConstraint("room_id", "label"),
        CheckConstraint("status IN ('active', 'out_of_service', 'retired')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), nullable=False, index=True)
    label: Mapped[str] = mapped_column(String(40), nullable=False)
    specs: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="active", nullable=False)

    room = relationship("Room", back_populates="workstations")

    @property
    def is_active(self):
        return self.status == "active"


EQUIPMENT_STATUSES = ("in_service", "broken", "in_repair", "retired")
# Suggestions offered in forms; any short kind is accepted.
EQUIPMENT_KINDS = (
    "computer",
    "monitor",
    "projector",
    "screen",
    "printer",
    "scanner",
    "webcam",
    "headset",
    "speakers",
    "microphone",
    "interactive_whiteboard",
    "router",
    "other",
)
PROBLEM_STATUSES = ("open", "in_progress", "resolved")


class EquipmentItem(db.Model):
    """One inventoried piece of equipment of a room, optionally attached to a workstation."""

    __tablename__ = "equipment_items"
    __table_args__ = (
        CheckConstraint("status IN ('in_service', 'broken', 'in_repair', 'retired')", name="status_known"),
        Index("ix_equipment_items_room_status", "room_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), nullable=False)
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("workstations.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    # Unique across the city: the accounting department's number, printed on the sticker.
    inventory_number: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="in_service", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    room = relationship("Room")
    workstation = relationship("Workstation")
    history = relationship(
        "EquipmentEvent",
        order_by="(EquipmentEvent.at, EquipmentEvent.id)",
        back_populates="item",
        cascade="all, delete-orphan",
    )


class EquipmentEvent(db.Model):
    """One line of an item's history: created, a status change, or a repair note."""

    __tablename__ = "equipment_events"
    __table_args__ = (Index("ix_equipment_events_item_at", "item_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("equipment_items.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    item = relationship("EquipmentItem", back_populates="history")
    actor = relationship("User")


class ProblemReport(db.Model):
    """A fault a user reported on a workstation or an equipment item of a room."""

    __tablename__ = "problem_reports"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name="status_known"),
        CheckConstraint("workstation_id IS NOT NULL OR equipment_id IS NOT NULL", name="has_target"),
        Index("ix_problem_reports_room_status", "room_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), nullable=False)
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("workstations.id", ondelete="SET NULL"))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment_items.id", ondelete="SET NULL"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="open", nullable=False)
    resolution: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    room = relationship("Room")
    workstation = relationship("Workstation")
    equipment = relationship("EquipmentItem")
    reporter = relationship("User", foreign_keys=[reporter_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
