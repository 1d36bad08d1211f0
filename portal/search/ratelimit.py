"""The per-user search rate limit, shared by the search page and the API.

Keyed by the signed-in user, not the address: a room of twelve computers
searches from one address. Stored where Flask-Limiter stores everything
(Redis when configured), so it holds across workers.
"""
from flask import current_app, request
from flask_login import current_user
from limits import parse_many

from portal.extensions import limiter

# The spec's floor: a doctor may always run at least this many searches a minute.
MINIMUM_PER_MINUTE = 30


def check_search_rate_limit(value):
    """Refuse a configured limit that is stricter than 30 searches a minute."""
    for item in parse_many(value):
        if item.amount * 60 / item.get_expiry() < MINIMUM_PER_MINUTE:
            raise ValueError(f"SEARCH_RATE_LIMIT {value!r} is below {MINIMUM_PER_MINUTE} per minute")


def _configured_limit():
    return current_app.config["SEARCH_RATE_LIMIT"]


def _user_key():
    return f"user:{current_user.get_id()}"


def _no_search_requested():
    # Opening the empty search page costs nothing upstream.
    return request.endpoint == "search.search_page" and "q" not in request.args


search_rate_limit = limiter.shared_limit(_configured_limit, scope="search", key_func=_user_key,
                                         exempt_when=_no_search_requested)
