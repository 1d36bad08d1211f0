"""Answers cached in Redis, kept exact by version numbers bumped after each commit.

A feature names the model classes its answers are drawn from and, for a
changed row, the *scopes* it touches ("room 12", "every room", "the API
tokens"). Every committed ORM change to such a row — whichever process or
package made it: SQLAlchemy session events see every ORM change — bumps the
versions of its scopes in Redis right after the commit. An entry is stored
with the versions read before it was computed, and counts only while those
are still current: a reader takes the versions first and reads the database
second, a writer commits first and bumps second, so no reader gets an answer
computed before a change it could already see.

Bulk UPDATE/DELETE statements name their scopes with ``scopes_option(...)``;
one that names none bumps the class's catch-all scopes. Changes made with raw
SQL are not seen, so entries also expire.

Without REDIS_URL, or while Redis is unreachable, nothing is cached here and
every answer is computed (portal.core.redis_client).
"""
import pickle
import time
from dataclasses import dataclass

import redis
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core import transaction
from portal.core.redis_client import epoch_key, get_redis, redis_failed

CHANGED = "portal_versioned_cache_changed"
SCOPES_OPTION = "versioned_cache_scopes"


@dataclass(frozen=True)
class _Tracked:
    scopes_of: object  # changed row -> set of scopes
    bulk_scopes: frozenset  # a bulk statement on the class that names no scopes


_tracked = {}


def track(model_class, scopes_of, *, bulk_scopes):
    """Bump ``scopes_of(row)`` after any committed change to a ``model_class`` row."""
    _tracked[model_class] = _Tracked(scopes_of, frozenset(bulk_scopes))


def scopes_option(scopes):
    """Execution options for a bulk statement that touches exactly ``scopes``
    (an empty set: the caller marks them itself with ``mark_changed``)."""
    return {SCOPES_OPTION: set(scopes)}


def mark_changed(session, scopes):
    session.info.setdefault(CHANGED, set()).update(scopes)


def _tracker_of(obj):
    for cls in type(obj).__mro__:
        if cls in _tracked:
            return _tracked[cls]
    return None


def _after_flush(session, flush_context):
    for obj in (*session.new, *session.dirty, *session.deleted):
        tracker = _tracker_of(obj)
        if tracker is not None:
            mark_changed(session, tracker.scopes_of(obj))


def _on_orm_execute(state):
    if not (state.is_update or state.is_delete):
        return
    named = state.execution_options.get(SCOPES_OPTION)
    if named is not None:
        mark_changed(state.session, named)
        return
    mapper = state.bind_mapper
    tracker = _tracked.get(mapper.class_) if mapper is not None else None
    if tracker is not None:
        mark_changed(state.session, tracker.bulk_scopes)


def _after_commit(session):
    if not transaction.is_outer_commit(session):
        return  # a released SAVEPOINT: readers cannot see the change before the real commit
    changed = session.info.pop(CHANGED, None)
    if changed:
        bump(changed)


def _after_transaction_end(session, transaction):
    if transaction.parent is None:
        session.info.pop(CHANGED, None)  # rolled back: nothing changed


def _key(kind, name):
    return f"{current_app.config.get('CACHE_KEY_PREFIX', 'portal:')}{kind}:{name}"


def bump(scopes):
    client = get_redis()
    if client is None:
        if current_app.config.get("REDIS_URL"):
            redis_failed("a version bump was skipped", lost_invalidation=True)
        return
    pipe = client.pipeline(transaction=False)
    for scope in scopes:
        pipe.incr(_key("version", scope))
    try:
        pipe.execute()
    except redis.RedisError as error:
        redis_failed(error, lost_invalidation=True)


def get_or_compute(scopes, entry, compute, *, lifetime):
    """The cached value of ``entry`` while ``scopes`` are unchanged, else ``compute()``'s.

    ``compute()`` returns ``(value, valid_until)``: a Unix time after which
    the value is stale whatever happens (None: only ``lifetime`` seconds
    bound it). A None value is returned but not stored. One round trip reads
    the versions and the entry.
    """
    client = get_redis()
    if client is None:
        return compute()[0]
    entry_key = _key("entry", entry)
    try:
        *versions, cached = client.mget([epoch_key()] + [_key("version", scope) for scope in scopes] + [entry_key])
    except redis.RedisError as error:
        redis_failed(error)
        return compute()[0]
    stamp = ".".join(str(int(version or 0)) for version in versions)
    if cached is not None:
        stored_stamp, valid_until, value = pickle.loads(cached)
        if stored_stamp == stamp and (valid_until is None or valid_until > time.time()):
            return value
    value, valid_until = compute()
    if value is not None:
        seconds = lifetime if valid_until is None else min(lifetime, int(valid_until - time.time()))
        # Versions only grow: an entry stored late under old versions is simply never used.
        try:
            client.set(entry_key, pickle.dumps((stamp, valid_until, value), protocol=pickle.HIGHEST_PROTOCOL),
                       ex=max(1, seconds))
        except redis.RedisError as error:
            redis_failed(error)
    return value


def init_app(app):
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
