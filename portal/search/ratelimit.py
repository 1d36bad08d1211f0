"""The per-user search rate limit, shared by the search page and the API.

Keyed by the signed-in user, not the address: a room of twelve computers
searches from one address. Counted in Flask-Limiter's storage (Redis when
configured) with its `limits` strategy, so it holds across workers — but
with one direct hit per search: Flask-Limiter's per-request decorator
machinery cost a quarter of a search answered from the cache.
"""

import functools
import time

import redis
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from portal.core.errors import RateLimited
from portal.core.redis_client import redis_failed, shared_store_usable
from portal.extensions import limiter

# The spec's floor: a doctor may always run at least this many searches a minute.
MINIMUM_PER_MINUTE = 30
SCOPE = "search"
PARSED_KEY = "portal_search_rate_limit"
FALLBACK_KEY = "portal_search_rate_limit_fallback"


def check_search_rate_limit(value):
    """Refuse a configured limit that is stricter than 30 searches a minute."""
    for item in parse_many(value):
        if item.amount * 60 / item.get_expiry() < MINIMUM_PER_MINUTE:
            raise ValueError(f"SEARCH_RATE_LIMIT {value!r} is below {MINIMUM_PER_MINUTE} per minute")


def init_app(app):
    check_search_rate_limit(app.config["SEARCH_RATE_LIMIT"])
    app.extensions[PARSED_KEY] = parse_many(app.config["SEARCH_RATE_LIMIT"])
    # Counts kept by this process while a configured Redis is unreachable.
    app.extensions[FALLBACK_KEY] = FixedWindowRateLimiter(MemoryStorage())


def _strategy():
    if shared_store_usable():
        return limiter.limiter
    return current_app.extensions[FALLBACK_KEY]


def _no_search_requested():
    # Opening the empty search page costs nothing upstream.
    return request.endpoint == "search.search_page" and "q" not in request.args


def search_rate_limit(view):
    """Answer 429 (``rate_limited``, with Retry-After) once the user has used up SEARCH_RATE_LIMIT."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        if limiter.enabled and not _no_search_requested():
            # Under the key prefix Flask-Limiter uses, so deployments sharing a Redis do not share counts.
            identifiers = (current_app.config["RATELIMIT_KEY_PREFIX"], SCOPE, f"user:{current_user.get_id()}")
            strategy = _strategy()
            for item in current_app.extensions[PARSED_KEY]:
                try:
                    allowed = strategy.hit(item, *identifiers)
                except redis.RedisError as error:
                    redis_failed(error)
                    strategy = current_app.extensions[FALLBACK_KEY]
                    allowed = strategy.hit(item, *identifiers)
                if not allowed:
                    reset_at = strategy.get_window_stats(item, *identifiers).reset_time
                    raise RateLimited(
                        _("Too many searches. Please wait a minute and try again."),
                        retry_after=max(1, int(reset_at - time.time()) + 1),
                    )
        return view(*args, **kwargs)

    return limited
