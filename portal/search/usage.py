"""Search usage rows (``SearchEvent``), written in batches.

A cached repeat is the most common search and costs well under a millisecond
of work; a committed INSERT of its usage rows (a WAL flush on PostgreSQL)
would cost several times that. So each process collects the rows and writes
them with one INSERT when SEARCH_USAGE_FLUSH_SECONDS have passed
since its last write, when SEARCH_USAGE_BATCH_ROWS are waiting, before this
process reads the statistics, and when it exits. Each row keeps the time of
its own search. A process killed without exiting loses at most that window
of counts — statistics, never anything a user saved.

The rows hold no query text and no person (privacy rule 2).
"""
import atexit
import logging
import threading
import time
import weakref

from flask import current_app
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from portal.core.db import is_sqlite
from portal.extensions import db
from portal.search.models import SearchEvent

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal_search_usage"
# Rows kept while the database cannot take them, beyond which the oldest are dropped.
MAX_WAITING_BATCHES = 20


class UsageBuffer:
    def __init__(self, flush_seconds, batch_rows):
        self.flush_seconds = flush_seconds
        self.batch_rows = batch_rows
        self._rows = []
        self._lock = threading.Lock()
        self._written_at = time.monotonic()

    def add(self, rows):
        with self._lock:
            self._rows.extend(rows)
            due = (len(self._rows) >= self.batch_rows
                   or time.monotonic() - self._written_at >= self.flush_seconds)
        if due:
            self.flush()

    def flush(self):
        with self._lock:
            rows, self._rows = self._rows, []
            self._written_at = time.monotonic()
        if not rows:
            return
        try:
            _insert(rows)
        except SQLAlchemyError:
            # A search must not fail because its statistics could not be written: keep them for the next try.
            log.warning("search usage: %d rows could not be written; kept for the next try", len(rows),
                        exc_info=True)
            with self._lock:
                self._rows = (rows + self._rows)[-MAX_WAITING_BATCHES * self.batch_rows:]


def _insert(rows):
    """One INSERT for all the rows (executemany, which SQLAlchemy sends as
    multi-row batches), committed before returning.

    PostgreSQL: on a pooled connection of its own in autocommit mode, so the
    caller's session is neither flushed nor committed. SQLite has a single
    writer and the caller's transaction already holds the write lock (BEGIN
    IMMEDIATE, see portal/core/db.py), so there the rows go in with it.
    """
    statement = insert(SearchEvent.__table__)
    if is_sqlite():
        try:
            db.session.execute(statement, rows)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            raise
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(statement, rows)


def buffer():
    return current_app.extensions[EXTENSION_KEY]


def record(rows):
    """Count searches: ``rows`` are ``SearchEvent`` column values."""
    if rows:
        buffer().add(rows)


def flush():
    """Write this process's waiting rows now (before reading the statistics)."""
    buffer().flush()


_apps = weakref.WeakSet()


@atexit.register
def _flush_at_exit():
    for app in list(_apps):
        with app.app_context():
            flush()


def init_app(app):
    app.extensions[EXTENSION_KEY] = UsageBuffer(float(app.config["SEARCH_USAGE_FLUSH_SECONDS"]),
                                                int(app.config["SEARCH_USAGE_BATCH_ROWS"]))
    _apps.add(app)
