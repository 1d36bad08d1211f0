"""Keeping and searching the clinical-guidelines catalogue.

Services in the portal's sense: they take an explicit ``now``, only flush, and
leave the transaction to their caller (the sync job, the CLI command, the
admin's upload). Writers take the sync-state row's lock first, so two loads
of the catalogue never interleave.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cachelib import SimpleCache
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, column, exists, func, literal_column, or_, select, table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from portal.core import audit
from portal.core.errors import Invalid
from portal.core.permissions import is_superadmin, require
from portal.core.time import zone
from portal.extensions import db
from portal.search.guidelines import russian
from portal.search.guidelines.listing import ListingShapeError, parse_answer
from portal.search.guidelines.models import (
    AGE_ADULTS,
    AGE_BOTH,
    AGE_CHILDREN,
    FTS_TABLE,
    STATUS_ARCHIVED,
    Guideline,
    GuidelineMkbCode,
    GuidelineSyncState,
)
from portal.search.guidelines.upstream import PUBLIC_PAGE
from portal.search.records import Record, SearchPage

SOURCE = "minzdrav"
STATE_ID = 1
# The rubricator's guidelines are dated in Moscow time.
RUBRICATOR_ZONE = zone("Europe/Moscow")
AGE_CATEGORIES_FOR = {"children": (AGE_CHILDREN, AGE_BOTH), "adults": (AGE_ADULTS, AGE_BOTH)}
AGE_GROUP_OF = {AGE_CHILDREN: "children", AGE_ADULTS: "adults", AGE_BOTH: "all"}


# --- the sync state ------------------------------------------------------------------------


def _state_for_update():
    """The sync-state row, locked until the transaction ends (created on first use)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(GuidelineSyncState).values(id=STATE_ID, guideline_count=0).on_conflict_do_nothing(index_elements=["id"])
    )
    return db.session.scalars(
        select(GuidelineSyncState)
        .where(GuidelineSyncState.id == STATE_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def sync_state():
    """The sync state as stored, or None before the first sync."""
    return db.session.get(GuidelineSyncState, STATE_ID)


def claim_sync(*, now, lease, synced_before=None, attempted_before=None):
    """Take the sync lease until ``now + lease`` unless another sync holds it; with
    ``synced_before``/``attempted_before`` only when the last success and the last attempt are
    older than those times (the schedule). True when this caller may sync.

    A guarded update, so that of several machines asking at once exactly one gets it.
    """
    _state_for_update()
    conditions = [
        GuidelineSyncState.id == STATE_ID,
        or_(GuidelineSyncState.running_until.is_(None), GuidelineSyncState.running_until <= now),
    ]
    if synced_before is not None:
        conditions.append(
            or_(GuidelineSyncState.last_success_at.is_(None), GuidelineSyncState.last_success_at <= synced_before)
        )
    if attempted_before is not None:
        conditions.append(
            or_(GuidelineSyncState.last_attempt_at.is_(None), GuidelineSyncState.last_attempt_at <= attempted_before)
        )
    result = db.session.execute(
        update(GuidelineSyncState)
        .where(*conditions)
        .values(running_until=now + lease, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def record_failure(message, *, now):
    """Note a failed sync and release the lease; the catalogue itself stays as it was."""
    state = _state_for_update()
    state.last_attempt_at = now
    state.last_failure_at = now
    state.last_error = message[:2000]
    state.running_until = None
    db.session.flush()
    _status_changed()


@dataclass(frozen=True)
class CatalogueChange:
    """What one load did: guidelines added, changed, marked as gone, and how many are listed now."""

    added: int
    changed: int
    removed: int
    listed: int
    complete: bool


def apply_listing(items, *, complete, origin, now, holds_lease=False):
    """Upsert every listed guideline and, when the list is ``complete``, mark the ones it no
    longer names as removed (they stay in the database, out of searches; a guideline that
    comes back is searched again). Records the success, and releases the sync lease when
    the caller ``holds_lease`` (a saved list loads without one).
    """
    state = _state_for_update()
    existing = {
        guideline.code_version: guideline
        for guideline in db.session.scalars(select(Guideline).options(selectinload(Guideline.mkb_codes)))
    }
    added = changed = 0
    for item in items:
        values = _listed_values(item)
        codes = [(mkb.code, mkb.name) for mkb in item.mkb_codes]
        guideline = existing.get(item.code_version)
        if guideline is None:
            guideline = Guideline(code_version=item.code_version, first_seen_at=now)
            db.session.add(guideline)
            added += 1
        elif guideline.removed_at is not None or _differs(guideline, values, codes):
            changed += 1
        _fill(guideline, values, codes, now)
    removed = 0
    if complete:
        listed = {item.code_version for item in items}
        for code_version, guideline in existing.items():
            if code_version not in listed and guideline.removed_at is None:
                guideline.removed_at = now
                removed += 1
    state.last_success_at = now
    state.last_attempt_at = now
    state.last_origin = origin
    state.last_error = None
    if holds_lease:
        state.running_until = None
    db.session.flush()
    state.guideline_count = db.session.scalar(
        select(func.count()).select_from(Guideline).where(Guideline.removed_at.is_(None))
    )
    db.session.flush()
    _status_changed()
    return CatalogueChange(added, changed, removed, len(items), complete)


def _listed_values(item):
    return {
        "code": item.code,
        "version": item.version,
        "rubricator_id": item.rubricator_id,
        "title": item.title,
        "age_category": item.age_category,
        "age_label": item.age_label,
        "status": item.status,
        "applies_now": item.applies_now,
        "council_approved": item.council_approved,
        "developers": list(item.developers),
        "published_at": item.published_at,
        "search_text": russian.search_text(item.title, *(mkb.name for mkb in item.mkb_codes), item.age_label or ""),
    }


def load_listing_file(actor, data, *, now):
    """Load the catalogue from a saved answer of the list call (or a list saved as
    ``{"total_count": …, "items": [...]}``), for networks that cannot reach the rubricator.

    The catalogue serves every clinic, so only a superadmin loads it from the web; the CLI
    passes no actor. Guidelines the file does not name are marked as gone only when the file
    holds the whole list (its own count says so). Raises ``Invalid`` for anything but such
    a list, leaving the catalogue as it was.
    """
    if actor is not None:
        require(is_superadmin(actor))
    try:
        page = parse_answer(json.loads(data))
    except (ValueError, RecursionError) as error:
        problem = str(error) if isinstance(error, ListingShapeError) else _("it is not JSON")
        raise Invalid(
            _("The file is not a saved list of clinical guidelines: %(problem)s.", problem=problem),
            code="invalid_file",
            field="file",
        ) from None
    if not page.items:
        raise Invalid(_("The file lists no clinical guidelines."), code="invalid_file", field="file")
    items = tuple({item.code_version: item for item in page.items}.values())
    change = apply_listing(items, complete=page.total is not None and len(items) >= page.total, origin="file", now=now)
    audit.record(
        "search.guidelines_loaded",
        actor=actor,
        clinic_id=None,
        details={
            "listed": change.listed,
            "added": change.added,
            "changed": change.changed,
            "removed": change.removed,
            "at": now.isoformat(),
        },
    )
    return change


def _differs(guideline, values, codes):
    return (
        any(getattr(guideline, key) != value for key, value in values.items())
        or [(code.code, code.name) for code in guideline.mkb_codes] != codes
    )


def _fill(guideline, values, codes, now):
    for key, value in values.items():
        if getattr(guideline, key, None) != value:
            setattr(guideline, key, value)
    guideline.last_seen_at = now
    guideline.removed_at = None
    current = [(code.code, code.name) for code in guideline.mkb_codes]
    if current != codes:
        if current:
            guideline.mkb_codes = []
            db.session.flush()  # the old codes go before their replacements, which share their keys
        guideline.mkb_codes = [
            GuidelineMkbCode(code=code, name=name, position=position) for position, (code, name) in enumerate(codes)
        ]


# --- what the search page says about the catalogue ------------------------------------------


@dataclass(frozen=True)
class CatalogueStatus:
    synced_at: datetime | None
    guideline_count: int
    stale: bool  # never loaded, or older than GUIDELINES_STALE_AFTER_HOURS
    failed_at: datetime | None  # the last sync failed (after the last success)
    error: str | None

    def as_dict(self):
        return {
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
            "guidelines": self.guideline_count,
            "stale": self.stale,
            "last_failure_at": self.failed_at.isoformat() if self.failed_at else None,
        }


STATUS_KEY = "portal_guidelines_status"


def keep_catalogue_status(app):
    app.extensions[STATUS_KEY] = SimpleCache(threshold=1, default_timeout=app.config["GUIDELINES_STATUS_CACHE_SECONDS"])


def catalogue_status(*, now, stale_after, kept=True):
    """What the search page says about the catalogue, as of ``now``.

    Every guideline search keys its cached answer on the catalogue's load
    time. The catalogue is loaded about once a day, so with ``kept`` each
    process keeps its state for GUIDELINES_STATUS_CACHE_SECONDS instead of
    reading it per search: a load on another server reaches searches within
    that time; the process that loads drops its copy at once.
    """
    kept_states = current_app.extensions[STATUS_KEY]
    state = kept_states.get(STATUS_KEY) if kept else None
    if state is None:
        state = _stored_status()
        kept_states.set(STATUS_KEY, state)
    synced_at, guideline_count, failed_at, error = state
    return CatalogueStatus(
        synced_at=synced_at,
        guideline_count=guideline_count,
        stale=synced_at is None or now - synced_at > stale_after,
        failed_at=failed_at,
        error=error,
    )


def _stored_status():
    """(last success, guidelines listed, last failure after it, its message), as stored."""
    state = sync_state()
    if state is None:
        return None, 0, None, None
    synced_at = state.last_success_at
    if state.last_failure_at is not None and (synced_at is None or state.last_failure_at > synced_at):
        return synced_at, state.guideline_count, state.last_failure_at, state.last_error
    return synced_at, state.guideline_count, None, None


def _status_changed():
    current_app.extensions[STATUS_KEY].delete(STATUS_KEY)


# --- searching -----------------------------------------------------------------------------

_FTS = table(FTS_TABLE, column("rowid"), column("search_text"))
_PG_VECTOR = literal_column(f"to_tsvector('russian'::regconfig, {Guideline.__tablename__}.search_text)")


def find_guideline(code_version):
    """A guideline still listed, by its code and version ("1059_1"), or None."""
    return db.session.scalar(
        select(Guideline).where(Guideline.code_version == code_version, Guideline.removed_at.is_(None))
    )


def search(session, request):
    """One page of guidelines for a ``SearchRequest``: its query, page, years, age group and
    whether only the guidelines that apply now are wanted.

    The query's ICD-10 codes match a guideline's codes, their subcodes (J21 finds J21.9) and
    the whole category of a subcode (J21.9 finds a guideline for J21); its words match in any
    grammatical form. Guidelines that apply now come first, then those covering exactly the
    code asked, then the most relevant, then the newest.
    """
    query = russian.parse_query(request.query)
    if not query.codes and not query.words:
        return SearchPage((), 0)
    conditions = [Guideline.removed_at.is_(None)]
    order = [Guideline.applies_now.desc()]
    statement = select(Guideline)
    if request.age_group is not None:
        conditions.append(Guideline.age_category.in_(AGE_CATEGORIES_FOR[request.age_group]))
    if request.current_only:
        conditions.append(Guideline.applies_now.is_(True))
    if request.year_from is not None:
        conditions.append(Guideline.published_at >= datetime(request.year_from, 1, 1, tzinfo=RUBRICATOR_ZONE))
    if request.year_to is not None:
        conditions.append(Guideline.published_at < datetime(request.year_to + 1, 1, 1, tzinfo=RUBRICATOR_ZONE))
    if query.codes:
        conditions.append(_covers_any(query.codes))
        order.append(case((_has_code(GuidelineMkbCode.code.in_(query.codes)), 1), else_=0).desc())
    if query.words:
        if session.get_bind().dialect.name == "postgresql":
            ts_query = func.to_tsquery(literal_column("'russian'::regconfig"), query.tsquery())
            conditions.append(_PG_VECTOR.op("@@")(ts_query))
            order.append(func.ts_rank(_PG_VECTOR, ts_query).desc())
        else:
            statement = statement.join(_FTS, _FTS.c.rowid == Guideline.id)
            conditions.append(literal_column(FTS_TABLE).op("MATCH")(query.fts5()))
            order.append(func.bm25(literal_column(FTS_TABLE)).asc())
    order += [Guideline.published_at.desc(), Guideline.id.desc()]
    statement = statement.where(*conditions)
    total = session.scalar(select(func.count()).select_from(statement.with_only_columns(Guideline.id).subquery()))
    guidelines = session.scalars(
        statement.options(selectinload(Guideline.mkb_codes))
        .order_by(*order)
        .limit(request.per_page)
        .offset(request.offset)
    ).all()
    return SearchPage(tuple(guideline_record(guideline) for guideline in guidelines), total)


def _has_code(condition):
    return exists(select(1).where(GuidelineMkbCode.guideline_id == Guideline.id, condition))


def _covers_any(codes):
    matches = []
    for code in codes:
        matches += [GuidelineMkbCode.code == code, GuidelineMkbCode.code.like(code + ".%")]
        if "." in code:
            matches.append(GuidelineMkbCode.code == code.split(".", 1)[0])
    return _has_code(or_(*matches))


def guideline_record(guideline):
    """A guideline as a search result (``type`` "guideline", its own fields under ``guideline``)."""
    published = guideline.published_at.astimezone(RUBRICATOR_ZONE) if guideline.published_at else None
    return Record(
        source=SOURCE,
        id=guideline.code_version,
        title=guideline.title,
        authors=tuple(guideline.developers),
        year=published.year if published else None,
        url=PUBLIC_PAGE.format(code_version=guideline.code_version),
        open_access=True,
        type="guideline",
        guideline={
            "code_version": guideline.code_version,
            "code": guideline.code,
            "version": guideline.version,
            "age_group": AGE_GROUP_OF.get(guideline.age_category),
            "age_label": guideline.age_label,
            "applies_now": guideline.applies_now,
            "archived": guideline.status == STATUS_ARCHIVED,
            "status": guideline.status,
            "council_approved": guideline.council_approved,
            "published_at": published.isoformat() if published else None,
            "mkb": [{"code": code.code, "name": code.name} for code in guideline.mkb_codes],
        },
    )


def stale_after(config):
    return timedelta(hours=float(config["GUIDELINES_STALE_AFTER_HOURS"]))
