"""Sign-in attempts, counted where every worker sees them.

What is counted is a key (portal.auth.devices.counter_key): an account's
unknown browsers together, or one trusted browser. With REDIS_URL the count
lives in Redis (INCR is atomic); otherwise, and while Redis is unreachable,
in the database. In both, an attempt is recorded *before* the password is
checked and the count read back, so concurrent attempts on several workers
cannot all slip under the limit. A successful sign-in clears the count. Keys
are stored as digests: no e-mail address is kept with the failures.
"""

import hashlib
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import delete, func, select

from portal.auth.models import FailedSignIn
from portal.core.db import utcnow
from portal.core.redis_client import get_redis, redis_failed
from portal.extensions import db


class DatabaseCounter:
    def __init__(self, window_seconds):
        self.window = timedelta(seconds=window_seconds)

    def hit(self, key):
        """Record one attempt and return the count (the caller commits it before going on)."""
        now, digest = utcnow(), _digest(key)
        db.session.execute(delete(FailedSignIn).where(FailedSignIn.at < now - self.window))
        db.session.add(FailedSignIn(account=digest, at=now))
        db.session.flush()
        return db.session.scalar(
            select(func.count())
            .select_from(FailedSignIn)
            .where(FailedSignIn.account == digest, FailedSignIn.at >= now - self.window)
        )

    def clear(self, key):
        db.session.execute(delete(FailedSignIn).where(FailedSignIn.account == _digest(key)))


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


class RedisCounter:
    def __init__(self, client, window_seconds, prefix):
        self.client = client
        self.window = window_seconds
        self.prefix = prefix

    def _key(self, key):
        return f"{self.prefix}signin-failures:{_digest(key)}"

    def hit(self, account):
        key = self._key(account)
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.window, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def clear(self, account):
        self.client.delete(self._key(account))


class FallingBackCounter:
    """Redis while it answers, the database when it does not: the limit holds through an outage."""

    def __init__(self, redis_counter, database_counter):
        self.redis_counter = redis_counter
        self.database_counter = database_counter

    def hit(self, account):
        try:
            return self.redis_counter.hit(account)
        except redis.RedisError as error:
            redis_failed(error)
            return self.database_counter.hit(account)

    def clear(self, account):
        self.database_counter.clear(account)
        try:
            self.redis_counter.clear(account)
        except redis.RedisError as error:
            redis_failed(error)


def counter():
    config = current_app.config
    window = config["SIGNIN_FAILURE_WINDOW_SECONDS"]
    client = get_redis()
    if client is not None:
        return FallingBackCounter(RedisCounter(client, window, config["CACHE_KEY_PREFIX"]), DatabaseCounter(window))
    return DatabaseCounter(window)
