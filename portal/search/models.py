"""What the search keeps.

Privacy (152-FZ, privacy rule 2): no table here holds a search query. Usage
statistics are per-source rows without the person or the text; the result
cache is keyed by a hash of the normalised query and holds only results.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
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
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(40))
    latency_ms: Mapped[int] = mapped_column(nullable=False)
    cached: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class UnlinkedSource(db.Model):
    """A search source a clinic's admin switched off.

    Only the switched-off sources are stored, so a new clinic has every
    source linked without any row being created for it (search rule 2).
    """

    __tablename__ = "search_unlinked_sources"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), primary_key=True)


class ClinicSearchSettings(db.Model):
    """Per-clinic search settings; a clinic without a row uses the defaults."""

    __tablename__ = "search_clinic_settings"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True)
    # The library proxy (EZproxy/OpenAthens style) that wraps outgoing DOI links,
    # e.g. "https://proxy.library.example/login?url=": the DOI address is appended.
    link_prefix: Mapped[str | None] = mapped_column(String(500))


class LinkedResource(db.Model):
    """Professional literature beyond the APIs, listed on the clinic's search page."""

    __tablename__ = "search_linked_resources"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    access_note: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SavedReference(db.Model):
    """A search result a doctor keeps on their reading list, with their own note."""

    __tablename__ = "search_saved_references"
    # One entry per work: the DOI, else the PMID, else the source's own id.
    __table_args__ = (UniqueConstraint("user_id", "work_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    work_key: Mapped[str] = mapped_column(String(300), nullable=False)
    # "article", or "guideline" for a clinical guideline (exported as a report of the Ministry).
    kind: Mapped[str] = mapped_column(String(20), default="article", server_default="article", nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    authors: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    journal: Mapped[str | None] = mapped_column(String(500))
    year: Mapped[int | None] = mapped_column()
    doi: Mapped[str | None] = mapped_column(String(255))
    pmid: Mapped[str | None] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(1000))
    # A guideline's code and version in the rubricator ("1059_1").
    report_number: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
