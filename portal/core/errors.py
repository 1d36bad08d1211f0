"""Domain errors raised by services, and how the web and the API answer them.

Services raise these with a stable snake_case code and a human message; the
HTML views show the message (next to the field when one is named) and the
API answers {"error": {"code", "message"}} with the matching status.
"""

from flask import g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DataError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from portal.core import transaction
from portal.extensions import login_manager


class DomainError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(self, message, *, code=None, field=None, details=None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}

    def to_dict(self):
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.details)
        return body


class Invalid(DomainError):
    status = 400
    default_code = "invalid"


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"


class NotAllowed(DomainError):
    status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    status = 409
    default_code = "conflict"


class RateLimited(DomainError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after  # seconds, sent as Retry-After


class UpstreamFailure(DomainError):
    status = 502
    default_code = "upstream_error"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "unavailable",
    504: "upstream_timeout",
}


def wants_json():
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def error_response(status, code, message, extra=None):
    """The error in the API's shape, or a page. Neither reads the database: the request's transaction
    has ended (or the database is what failed), and an error must be answered whatever the cause."""
    if wants_json():
        body = {"code": code, "message": message}
        if extra:
            body.update(extra)
        return jsonify(error=body), status
    g.answering_error = True
    if "_login_user" not in g:
        # Flask-Login's template context would load the signed-in user; the page makes do without.
        g._login_user = login_manager.anonymous_user()
    return render_template("core/error.html", status=status, message=message), status


def _with_retry_after(response, seconds):
    response = make_response(response)
    if seconds:
        response.headers["Retry-After"] = str(seconds)
    return response


def _retry_after(error):
    """Seconds to wait, for every 429: Flask-Limiter's limits say their window (the longest wait)."""
    if isinstance(error, RateLimitExceeded):
        return error.limit.limit.get_expiry()
    return getattr(error, "retry_after", None) or (60 if error.code == 429 else None)


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def handle_domain_error(error):
        transaction.roll_back()
        extra = {k: v for k, v in error.to_dict().items() if k not in ("code", "message")}
        return _with_retry_after(
            error_response(error.status, error.code, error.message, extra), getattr(error, "retry_after", None)
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error):
        transaction.roll_back()
        status = error.code or 500
        code = HTTP_CODES.get(status, "http_error")
        messages = {
            401: _("Please sign in."),
            403: _("You do not have access to this page."),
            404: _("Not found."),
            405: _("This method is not allowed here."),
            413: _("The request is too large."),
            429: _("Too many requests. Please wait a minute and try again."),
        }
        message = messages.get(status) or error.description or error.name
        response = _with_retry_after(error_response(status, code, str(message)), _retry_after(error))
        # What the exception says about the answer (Allow on a 405, WWW-Authenticate) stays with it.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DataError)
    def handle_bad_value(error):
        # The database refused a value (a number out of range, say): the input's fault, not ours.
        transaction.roll_back()
        return error_response(400, "invalid_value", _("A value in the request is out of range or malformed."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeout)
    def handle_database_unavailable(error):
        transaction.abandon()
        app.logger.error("the database is not answering: %s", error)
        return _with_retry_after(
            error_response(
                503, "unavailable", _("The portal cannot reach its database right now. Please try again in a minute.")
            ),
            30,
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        transaction.roll_back()
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", _("Something went wrong on our side. Please try again."))
