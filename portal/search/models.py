"""What the search keeps: per-source counts and timings, never the query text (privacy rule 2)."""
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db


class SearchEvent(db.Model):
    """One source's part of one search: enough for usage statistics, nothing about the person or query."""

    __tablename__ = "search_events"
    __table_args__ = (Index("ix_search_events_clinic_at", "clinic_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(40))
    latency_ms: Mapped[int] = mapped_column(nullable=False)
    cached: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
