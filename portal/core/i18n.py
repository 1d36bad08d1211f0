"""Language and time zone of the current request (defaults outside requests, e.g. the CLI).

Neither ever loads the signed-in user: they read a user this request has
already loaded. Error pages ask for them after the request's transaction was
rolled back (which expires every loaded row) and perhaps while the database
is unreachable, so they must not query it again.
"""

from flask import current_app, g, has_request_context, request, session
from sqlalchemy import inspect
from sqlalchemy.orm.base import NO_VALUE


def _loaded(obj, attribute):
    """An attribute's value if it is loaded, else None (never a query)."""
    if obj is None:
        return None
    value = inspect(obj).attrs[attribute].loaded_value
    return None if value is NO_VALUE else value


def _signed_in_user():
    user = g.get("_login_user")
    return user if user is not None and user.is_authenticated else None


def select_locale():
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_locale = _loaded(_signed_in_user(), "locale")
    if user_locale in languages:
        return user_locale
    if session.get("lang") in languages:
        return session["lang"]
    # ?lang= lets API clients and links ask for a language without a session.
    if request.args.get("lang") in languages:
        return request.args["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    clinic = _loaded(_signed_in_user(), "clinic") if has_request_context() else None
    return _loaded(clinic, "timezone") or current_app.config["BABEL_DEFAULT_TIMEZONE"]
