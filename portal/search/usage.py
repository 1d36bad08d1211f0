"""Search usage rows (``SearchEvent``), written in batches.

A cached repeat is the most common search and costs well under a millisecond
of work; a committed INSERT of its usage rows (a WAL flush on PostgreSQL)
would cost several times that. So each process collects the rows and writes
them with one INSERT, in the transaction of the request that finds a batch
due: when SEARCH_USAGE_FLUSH_SECONDS have passed since its last write, when
SEARCH_USAGE_BATCH_ROWS are waiting, before this process reads the
statistics, and when it exits. Each row keeps the time of its own search. A
process killed without exiting, or a batch whose commit fails, loses at most
that window of counts — statistics, never anything a user saved.

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

from portal.core import transaction
from portal.extensions import db
from portal.search.models import SearchEvent

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal_search_usage"
# Rows of a due batch, taken from the process's buffer by this session: written with its commit.
PENDING = "portal_search_usage_pending"


class UsageBuffer:
    def __init__(self, flush_seconds, batch_rows):
        self.flush_seconds = flush_seconds
        self.batch_rows = batch_rows
        self._rows = []
        self._lock = threading.Lock()
        self._written_at = time.monotonic()

    def add(self, rows):
        """Keep ``rows``; True when a batch is due."""
        with self._lock:
            self._rows.extend(rows)
            return len(self._rows) >= self.batch_rows or time.monotonic() - self._written_at >= self.flush_seconds

    def take(self):
        with self._lock:
            rows, self._rows = self._rows, []
            self._written_at = time.monotonic()
        return rows


def _insert(rows):
    """One INSERT for all the rows (executemany, which SQLAlchemy sends as multi-row batches)."""
    if rows:
        db.session.execute(insert(SearchEvent.__table__), rows)


def buffer():
    return current_app.extensions[EXTENSION_KEY]


def record(rows):
    """Count searches: ``rows`` are ``SearchEvent`` column values.

    A due batch is written with the request's commit, or after its rollback
    (portal.core.transaction): a failed request still searched.
    """
    if not buffer().add(rows):
        return
    pending = db.session.info.get(PENDING)
    if pending is None:
        pending = db.session.info[PENDING] = []
        transaction.keep_whatever_happens(_write_pending)
    pending.extend(buffer().take())


def _write_pending():
    _insert(db.session.info.pop(PENDING, []))


def flush():
    """Write every waiting row in the current transaction (before the statistics are read)."""
    _write_pending()
    _insert(buffer().take())


_apps = weakref.WeakSet()


@atexit.register
def _flush_at_exit():
    for app in list(_apps):
        with app.app_context():
            try:
                with transaction.unit_of_work():
                    flush()
            except SQLAlchemyError:
                log.warning("search usage: rows waiting at exit could not be written", exc_info=True)


def init_app(app):
    app.extensions[EXTENSION_KEY] = UsageBuffer(
        float(app.config["SEARCH_USAGE_FLUSH_SECONDS"]), int(app.config["SEARCH_USAGE_BATCH_ROWS"])
    )
    _apps.add(app)
