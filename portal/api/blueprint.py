"""The API blueprint and its request rules: who is calling, and CSRF for cookie callers."""

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from portal.auth import bearer_token
from portal.core.errors import Unauthorized

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi_document"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@bp.before_request
def authenticate_caller():
    """Bearer token or session cookie. A bad token is a 401 even if a cookie came along.

    Cookie callers must send the CSRF token in X-CSRFToken on writes; bearer
    callers need not (a browser never attaches a bearer token by itself).
    """
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    raw = bearer_token()
    if raw is not None:
        if not current_user.is_authenticated or g.get("api_token_id") is None:
            raise Unauthorized(_("The API token is invalid or revoked."), code="invalid_token")
        return None
    if request.headers.get("Authorization"):
        raise Unauthorized(_("Use the Authorization: Bearer <token> header."), code="invalid_token")
    if not current_user.is_authenticated:
        raise Unauthorized(_("Please sign in or send an API token."), code="unauthorized")
    if request.method in UNSAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise Unauthorized(_("Missing or invalid CSRF token."), code="csrf_failed") from None
    return None
