"""Shared building blocks: database helpers, errors, audit, notifications and mail, CLI and worker, base UI."""

from flask import g
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ROLE_LABELS = {
    "doctor": _l("doctor"),
    "trainer": _l("trainer"),
    "admin": _l("administrator"),
    "superadmin": _l("city administrator"),
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'{form_action}; "
    "frame-ancestors 'none'"
)
FORM_ACTION_SOURCES = "portal_form_action_sources"


def allow_form_redirects_to(app, origin):
    """Let a form of the portal end at `origin`: browsers apply form-action to the redirects after a
    form's POST too (signing out continues at the city provider's end-session endpoint)."""
    app.extensions.setdefault(FORM_ACTION_SOURCES, []).append(origin)


def init_app(app):
    from datetime import timedelta

    from portal.core import (
        assets,
        health,
        mail,
        request_guards,
        request_log,
        transaction,
        versioned_cache,
        views,
        worker,
    )
    from portal.core.errors import register_error_handlers
    from portal.core.time import format_day, format_local, format_local_span, to_local

    app.register_blueprint(views.bp)
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    transaction.init_app(app)
    worker.register_job(app, "forget-finished-mail", every=timedelta(days=1), run=mail.forget_finished)
    request_log.init_app(app)
    request_guards.init_app(app)
    versioned_cache.init_app(app)
    assets.init_app(app)

    def zone_or_users(tz_name):
        return tz_name or (current_user.timezone if current_user.is_authenticated else None)

    @app.template_filter("local_time")
    def local_time(value, tz_name=None, fmt="datetime"):
        return format_local(value, zone_or_users(tz_name), fmt)

    @app.template_global("local_span")
    def local_span(start, end, tz_name=None):
        return format_local_span(start, end, zone_or_users(tz_name))

    app.add_template_filter(format_day, "day")

    @app.template_filter("local_minute")
    def local_minute(value, tz_name=None):
        """The clinic's local time to the minute as forms carry it (YYYY-MM-DDTHH:MM), whatever the language."""
        return to_local(value, zone_or_users(tz_name)).strftime("%Y-%m-%dT%H:%M")

    @app.template_filter("local_iso_day")
    def local_iso_day(value, tz_name=None):
        """The clinic's day of a time as links carry it (YYYY-MM-DD), whatever the language."""
        return to_local(value, zone_or_users(tz_name)).date().isoformat()

    app.jinja_env.globals["role_label"] = lambda role: ROLE_LABELS.get(role, role)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        extra_sources = "".join(f" {origin}" for origin in app.extensions.get(FORM_ACTION_SOURCES, ()))
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(form_action=extra_sources))
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["HSTS_SECONDS"]:
            headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains")
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            # Shared computers: the browser must not keep personal pages for the next user.
            headers.setdefault("Cache-Control", "no-store")
        return response
