"""One structured (JSON) log line per request, for log collectors at city scale."""

import json
import logging
import time

from flask import g, request
from sqlalchemy import inspect

log = logging.getLogger("portal.requests")


def _user_id(user):
    """The caller's id without a query: the request's transaction has ended and expired the loaded rows."""
    state = inspect(user, raiseerr=False) if user is not None else None
    return state.identity[0] if state is not None and state.identity else None


def init_app(app):
    if not app.config.get("LOG_REQUESTS"):
        return
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        started = g.get("request_started")
        user = g.get("_login_user")
        log.info(
            json.dumps(
                {
                    "method": request.method,
                    # The path only: query strings may hold search terms or secrets.
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                    "user": _user_id(user),
                    "ip": request.remote_addr,
                }
            )
        )
        return response
