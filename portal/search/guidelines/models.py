"""The clinical-guidelines catalogue: one row per guideline version listed by the rubricator,
its ICD-10 (МКБ-10) codes, and the state of the sync that keeps it.

Full-text search objects live outside these models, created by the migration for
each database: a GIN index over ``to_tsvector('russian', search_text)`` on
PostgreSQL, an FTS5 table kept by triggers on SQLite (``FTS_TABLE``).
"""

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, register_unmodelled
from portal.extensions import db

# Created by the migration, not by these models. A migration that rebuilds search_guidelines on
# SQLite (batch mode) drops the triggers that keep FTS_TABLE: it must create them again.
FTS_TABLE = "search_guidelines_fts"
FTS_INDEX = "ix_search_guidelines_fts"
register_unmodelled(FTS_TABLE, FTS_INDEX)

# The rubricator's AgeCategory: 1 adults, 2 children, 3 both.
AGE_ADULTS, AGE_CHILDREN, AGE_BOTH = 1, 2, 3
# Its ApplyStatusCalculated for a guideline that applies now ("Применяется").
APPLIES_NOW = 1
# Its Status of archived guidelines (the current ones have 0).
STATUS_CURRENT, STATUS_ARCHIVED = 0, 4


class Guideline(db.Model):
    """One version of one clinical guideline, e.g. code 1059 version 1 ("1059_1")."""

    __tablename__ = "search_guidelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_version: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    code: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    rubricator_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    age_category: Mapped[int | None] = mapped_column(SmallInteger)
    age_label: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[int | None] = mapped_column(Integer)
    applies_now: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Approved by the Ministry's scientific and practical council (NPC_approved).
    council_approved: Mapped[bool | None] = mapped_column(Boolean)
    developers: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    published_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # The words searched: title, ICD-10 names and age group, then their Russian stems
    # (portal.search.guidelines.russian explains why the stems are added).
    search_text: Mapped[str] = mapped_column(Text, nullable=False)
    first_seen_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    # Set when a complete list no longer names this guideline; searches leave it out.
    removed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    mkb_codes: Mapped[list["GuidelineMkbCode"]] = relationship(
        back_populates="guideline", cascade="all, delete-orphan", order_by="GuidelineMkbCode.position"
    )


class GuidelineMkbCode(db.Model):
    """An ICD-10 code a guideline covers, with its Russian name, in the rubricator's order."""

    __tablename__ = "search_guideline_mkb_codes"

    guideline_id: Mapped[int] = mapped_column(ForeignKey("search_guidelines.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(Text, default="", nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)

    guideline: Mapped[Guideline] = relationship(back_populates="mkb_codes")


class GuidelineSyncState(db.Model):
    """The one catalogue's sync state (a single row, id 1).

    ``running_until`` is a lease: a sync claims it with a guarded update, so
    that only one machine pages through the rubricator at a time.
    """

    __tablename__ = "search_guideline_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_success_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_origin: Mapped[str | None] = mapped_column(String(20))  # "upstream" or "file"
    guideline_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    running_until: Mapped[object | None] = mapped_column(UTCDateTime)
