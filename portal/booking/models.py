"""Workstation bookings.

Why double bookings cannot happen, even with many workers on many machines:
the database refuses them. On PostgreSQL two exclusion constraints (see the
initial migration) forbid any two *active* bookings (booked or checked in) whose
time ranges overlap on the same workstation, or for the same doctor; the
second of two racing transactions waits for the first and then fails. On
SQLite, triggers do the same check inside the database; SQLite has a single
writer and the portal takes the write lock at BEGIN, so the check and the
insert cannot interleave with another writer. Either way the losing request
gets an IntegrityError naming the rule, which the service turns into a 409.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, one_of, utcnow
from portal.extensions import db

BOOKING_STATUSES = ("booked", "checked_in", "completed", "cancelled", "no_show")
ACTIVE_STATUSES = ("booked", "checked_in")
# What counts as a workstation's time taken in the reports: active bookings and those that were used.
OCCUPYING_STATUSES = ("booked", "checked_in", "completed")

ACTIVE_SQL = one_of("status", ACTIVE_STATUSES)

# Names the database uses when it refuses an overlap (constraint or trigger message).
WORKSTATION_OVERLAP = "ex_bookings_workstation_overlap"
USER_OVERLAP = "ex_bookings_user_overlap"


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        CheckConstraint(one_of("status", BOOKING_STATUSES), name="status_known"),
        Index("ix_bookings_workstation_start", "workstation_id", "start_at"),
        Index("ix_bookings_room_start", "room_id", "start_at"),
        Index("ix_bookings_user_start", "user_id", "start_at"),
        # Partial indexes over the few *active* rows: schedules, quotas and the periodic jobs
        # stay as fast with years of history as on the first day.
        Index(
            "ix_bookings_room_active_end",
            "room_id",
            "end_at",
            postgresql_where=text(ACTIVE_SQL),
            sqlite_where=text(ACTIVE_SQL),
        ),
        Index(
            "ix_bookings_user_active_end",
            "user_id",
            "end_at",
            postgresql_where=text(ACTIVE_SQL),
            sqlite_where=text(ACTIVE_SQL),
        ),
        Index(
            "ix_bookings_booked_start",
            "start_at",
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the privacy job has anonymised an old booking.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    workstation_id: Mapped[int] = mapped_column(ForeignKey("workstations.id"), nullable=False)
    # Denormalised from the workstation so room schedules need no join.
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), nullable=False)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="booked", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # Set by the reminder job in the same guarded UPDATE that claims the booking: one reminder only.
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
    workstation = relationship("Workstation")
    room = relationship("Room")

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES
