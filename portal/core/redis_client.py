"""Redis, when REDIS_URL is set: a shared cache and counter store, never a single point of failure.

Every user of Redis goes through `get_redis()` and reports a failure with
`redis_failed()`. After a failure the process leaves Redis alone for a few
seconds (each request would otherwise wait for a timeout), logs at most once
a minute, and the callers fall back: caches are bypassed, counters are kept
in the database or in the process. `/healthz` reports the outage.

Cached answers in Redis are kept exact by version numbers bumped after each
commit (portal.core.versioned_cache). A bump lost while Redis was unreachable
would leave old entries looking current once it answers again, so a process
that lost one first moves the shared epoch, which every cache key includes.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

import redis
from flask import current_app

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal_redis"
LOG_EVERY_SECONDS = 60
TIMEOUT_SECONDS = 1
EPOCH_KEY = "cache-epoch"


@dataclass
class _Connection:
    client: redis.Redis
    down_until: float = 0.0
    logged_at: float = float("-inf")
    epoch_to_move: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _connection():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    connection = current_app.extensions.get(EXTENSION_KEY)
    if connection is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS, retry=None
        )
        connection = current_app.extensions[EXTENSION_KEY] = _Connection(client)
    return connection


def epoch_key():
    return f"{current_app.config.get('CACHE_KEY_PREFIX', 'portal:')}{EPOCH_KEY}"


def get_redis():
    """The client, or None when Redis is not configured or failed a moment ago."""
    connection = _connection()
    if connection is None or time.monotonic() < connection.down_until:
        return None
    if connection.epoch_to_move:
        try:
            connection.client.incr(epoch_key())
        except redis.RedisError as error:
            redis_failed(error)
            return None
        connection.epoch_to_move = False
        log.warning("Redis answers again; cached answers from before the outage are no longer used")
    return connection.client


def redis_failed(error, *, lost_invalidation=False):
    """Leave Redis alone for a few seconds; `lost_invalidation`: a version bump did not reach it."""
    connection = _connection()
    if connection is None:
        return
    now = time.monotonic()
    with connection.lock:
        connection.down_until = now + current_app.config["REDIS_RETRY_SECONDS"]
        connection.epoch_to_move = connection.epoch_to_move or lost_invalidation
        should_log = now - connection.logged_at >= LOG_EVERY_SECONDS
        if should_log:
            connection.logged_at = now
    if should_log:
        log.error("Redis is unreachable (%s): caches bypassed, limits counted per process and in the database", error)


def shared_store_usable():
    """False while a configured Redis is down: skip caches and counters kept in it (they would wait)."""
    return not current_app.config.get("REDIS_URL") or get_redis() is not None


def redis_status():
    """'ok', 'unreachable', or None when Redis is not configured (for /healthz)."""
    connection = _connection()
    if connection is None:
        return None
    try:
        connection.client.ping()
    except redis.RedisError as error:
        redis_failed(error)
        return "unreachable"
    return "ok"
