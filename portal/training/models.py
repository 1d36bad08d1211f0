"""Courses, training sessions and enrolments.

Exactness comes from the database: sessions of one room cannot overlap
(a PostgreSQL exclusion constraint, a trigger on SQLite — see the initial
migration), a session's taken seats can never exceed its capacity (CHECK),
and a doctor has at most one enrolment row per session (UNIQUE).
"""

import math
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, one_of, utcnow
from portal.extensions import db

SESSION_STATUSES = ("scheduled", "cancelled", "completed")
ENROLMENT_STATUSES = ("enrolled", "waitlisted", "cancelled", "attended", "absent")
# Statuses in which a doctor holds (or waits for) a place in an upcoming session.
ACTIVE_ENROLMENT_STATUSES = ("enrolled", "waitlisted")
SESSION_OVERLAP = "ex_training_sessions_room_overlap"
ACADEMIC_HOUR_MINUTES = 45


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Academic hours of 45 minutes each; halves are allowed (a 20-minute talk is rare but real).
    academic_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), nullable=False)
    nmo_id: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # A cancelled course gets no new sessions; it stays for the learning records of those who attended it.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    trainer = relationship("User")
    clinic = relationship("Clinic")

    @property
    def is_nmo(self):
        return bool(self.nmo_id)

    @property
    def minutes(self):
        """The course's length in whole minutes: one academic hour is 45 (half a one, 23)."""
        return math.ceil(self.academic_hours * ACADEMIC_HOUR_MINUTES)


class TrainingSession(db.Model):
    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint(one_of("status", SESSION_STATUSES), name="status_known"),
        Index("ix_training_sessions_room_start", "room_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False, index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), nullable=False)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    capacity: Mapped[int] = mapped_column(nullable=False)
    seats_taken: Mapped[int] = mapped_column(default=0, nullable=False)
    whole_room: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", nullable=False)
    # Who runs this session: the course's trainer unless a colleague stands in.
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    course = relationship("Course", lazy="joined")
    room = relationship("Room")
    trainer = relationship("User", foreign_keys=[trainer_id])

    @property
    def seats_left(self):
        return max(self.capacity - self.seats_taken, 0)

    @property
    def minutes(self):
        return int((self.end_at - self.start_at).total_seconds() // 60)

    @property
    def academic_hours(self):
        """The academic hours this session gives: the course's, or fewer when the session is shorter.

        Its length counts in whole half-hours of 45 minutes, rounded down (a 40-minute session is 0.5, not
        1); a session longer than its course gives no more than the course (a break is not teaching).
        """
        halves = self.minutes * 2 // ACADEMIC_HOUR_MINUTES
        return min(self.course.academic_hours, Decimal(halves) / 2)


class Enrolment(db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        CheckConstraint(one_of("status", ENROLMENT_STATUSES), name="status_known"),
        Index("ix_enrolments_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    # Monotonic per session: the waitlist is FIFO by this number; position = rank among waitlisted.
    waitlist_seq: Mapped[int | None]
    # Set when the reminder went out, so the reminder job never sends it twice.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the doctor got their seat (enrolled at once or promoted from the waitlist): when seats are
    # withdrawn, the latest seated go back to the waitlist first.
    seated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    session = relationship("TrainingSession")
    user = relationship("User")


class Certificate(db.Model):
    """An attendance certificate: one per attended enrolment, verifiable by its number.

    What it certifies is copied at issue time, so the document and its public
    verification page keep saying the same thing even if the course is edited later.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    holder_name: Mapped[str] = mapped_column(String(200), nullable=False)
    course_title: Mapped[str] = mapped_column(String(200), nullable=False)
    academic_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), nullable=False)
    nmo_id: Mapped[str | None] = mapped_column(String(60))
    session_date: Mapped[date] = mapped_column(Date, nullable=False)
    trainer_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    clinic_name: Mapped[str] = mapped_column(String(300), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Attendance corrected to "absent" withdraws the certificate; it is kept so its number stays taken.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrolment = relationship("Enrolment", backref=db.backref("certificate", uselist=False))

    @property
    def is_valid(self):
        return self.revoked_at is None
