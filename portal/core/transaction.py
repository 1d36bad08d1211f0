"""One database transaction per request and per command.

Services only flush. Where a unit of work ends — a web or API request
(`Portal.dispatch_request` in portal/__init__.py), a CLI command
(`portal.core.cli`), one job of the worker — the transaction is committed
once when it succeeded and rolled back when it failed. E-mail is written in
the same transaction (the outbox of portal.core.mail); side effects outside the
database that must not outlive a rolled-back change (cache version bumps)
leave only after the commit (SQLAlchemy `after_commit` of the outermost
transaction, see `is_outer_commit`).

A few writes must stand whatever becomes of the request: the audit row of a
refused booking (the usage report counts refusals), a failed sign-in, the
end of an idle session. Code declares them with `keep_whatever_happens`; they
are written in the request's transaction when it commits, or in a
transaction of their own after its rollback.
"""

import logging
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)

STANDING_WORK = "portal_standing_work"


def keep_whatever_happens(work):
    """Run ``work()`` (writes only: it flushes, never commits) with the next commit of the session,
    which is this unit's own, or after its rollback a transaction of its own (`roll_back`)."""
    db.session.info.setdefault(STANDING_WORK, []).append(work)


def has_standing_work():
    return bool(db.session.info.get(STANDING_WORK))


def _write_standing_work(session):
    if session.in_nested_transaction():
        return
    for work in session.info.pop(STANDING_WORK, []):
        work()


def commit():
    """End the unit of work as done: everything, its standing work included, commits."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def roll_back():
    """End the unit of work as failed: undo its changes, then commit only its standing work.

    Never raises for a database failure: it runs on error paths, which must
    answer even when the database does not.
    """
    db.session.rollback()
    if not db.session.info.get(STANDING_WORK):
        return
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("writes that were to outlive a failed request were lost", exc_info=True)


def abandon():
    """The database is not answering: drop everything, standing work included, and ask it nothing more."""
    db.session.info.pop(STANDING_WORK, None)
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rollback on an unreachable database failed", exc_info=True)


def finish_request(response):
    """The request boundary: a response below 400 commits, any other rolls back."""
    if response.status_code < 400:
        commit()
    else:
        roll_back()
    return response


@contextmanager
def unit_of_work():
    """A command or a worker job: commit when the block succeeds, roll back when it raises."""
    try:
        yield
    except BaseException:
        roll_back()
        raise
    commit()


def is_outer_commit(session):
    """In an ``after_commit`` listener: the real commit, not a released SAVEPOINT (which fires it too)."""
    return not session.in_nested_transaction()


def init_app(app):
    if not event.contains(Session, "before_commit", _write_standing_work):
        event.listen(Session, "before_commit", _write_standing_work)
