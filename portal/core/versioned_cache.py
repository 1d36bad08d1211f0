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

Answers whose version is kept in the database itself (a room's availability,
portal.booking.cache) use ``get_or_compute_at``: the caller reads the version
in its own transaction and the entry is looked up under it, first in the
process's memory, then in Redis when there is one. Such an entry can never be
stale, since a change and its new version are committed together; Redis is
only a second level shared by the processes.
"""

import pickle
import time
from dataclasses import dataclass

import redis
from cachelib import SimpleCache
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core import transaction
from portal.core.redis_client import epoch_key, get_redis, redis_failed

CHANGED = "portal_versioned_cache_changed"
LOCAL_CACHE = "portal_local_cache"
LOCAL_ENTRIES = 2000
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
            client.set(
                entry_key,
                pickle.dumps((stamp, valid_until, value), protocol=pickle.HIGHEST_PROTOCOL),
                ex=max(1, seconds),
            )
        except redis.RedisError as error:
            redis_failed(error)
    return value


def pending_scopes(session):
    """The scopes this transaction has changed so far (a listener may take some out to handle them itself)."""
    return session.info.setdefault(CHANGED, set())


def get_or_compute_at(version, entry, compute, *, lifetime):
    """``compute()``'s value for ``entry`` at ``version``, kept in this process and in Redis.

    The version must come from the database, committed with every change it
    stands for (see the module's docstring). ``compute()`` returns ``(value,
    valid_until)`` as for ``get_or_compute``.
    """
    key = _key("entry", f"{entry}@{version}")
    local = current_app.extensions[LOCAL_CACHE]
    found = local.get(key)
    if found is None:
        found = _shared_get(key)
    if found is not None and (found[0] is None or found[0] > time.time()):
        local.set(key, found, timeout=lifetime)
        return found[1]
    value, valid_until = compute()
    if value is not None:
        seconds = lifetime if valid_until is None else max(1, min(lifetime, int(valid_until - time.time())))
        local.set(key, (valid_until, value), timeout=seconds)
        _shared_set(key, (valid_until, value), seconds)
    return value


def _shared_get(key):
    client = get_redis()
    if client is None:
        return None
    try:
        cached = client.get(key)
    except redis.RedisError as error:
        redis_failed(error)
        return None
    return None if cached is None else pickle.loads(cached)


def _shared_set(key, found, seconds):
    client = get_redis()
    if client is None:
        return
    try:
        client.set(key, pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL), ex=seconds)
    except redis.RedisError as error:
        redis_failed(error)


def init_app(app):
    app.extensions[LOCAL_CACHE] = SimpleCache(threshold=LOCAL_ENTRIES)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
