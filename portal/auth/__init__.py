"""Users, roles, sign-in, sessions and API tokens."""

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import logout_user

from portal.core import transaction
from portal.core.db import utcnow
from portal.extensions import login_manager

# The idle limit counts from the last request, to this step: a cookie rewritten on every request would
# cost each page a new signature and a Set-Cookie, and a session ends at most this much later.
SEEN_STEP_SECONDS = 30


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


READ_ALONG = "portal_read_along"


def read_with_caller(read):
    """Mark a view whose first read goes to the database in the same statement as its caller's.

    ``read(viewer_id, **view_args)`` returns a ``services.ReadAlong`` (or None to read nothing along);
    ``viewer_id`` is the user id a browser session claims, None for a token. Whichever hook loads the
    caller first sends it; the view takes the answer with ``read_along()`` and reads alone when that
    is None: the caller came from a cache, or the request had no caller to read.
    """

    def mark(view):
        view.read_with_caller = read
        return view

    return mark


def read_along():
    """This request's ``services.ReadAlong`` once it was read with the caller, else None."""
    along = g.get(READ_ALONG)
    return along if along is not None and along.read else None


def _along_for(viewer_id):
    view = current_app.view_functions.get(request.endpoint)
    read = getattr(view, "read_with_caller", None)
    along = read(viewer_id, **(request.view_args or {})) if read is not None else None
    setattr(g, READ_ALONG, along)
    return along


def init_app(app):
    from datetime import timedelta

    from portal.auth import cli, oidc, services, views  # noqa: F401  (cli registers commands)
    from portal.clinics.signals import clinic_deactivated
    from portal.core.errors import error_response, wants_json
    from portal.core.nav import USER_MENU, NavItem, add_nav_item
    from portal.core.notifications import set_people_directory
    from portal.core.worker import register_job

    app.register_blueprint(views.bp)
    oidc.init_app(app)
    clinic_deactivated.connect(services.end_clinic_access)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in.")
    login_manager.session_protection = "basic"
    services.track_token_callers()
    register_job(app, "purge-expired-sessions", every=timedelta(hours=1), run=cli.purge_expired_sessions)
    set_people_directory(app, services)

    @login_manager.user_loader
    def load_user(user_id):
        if bearer_token() is not None:
            return None  # a request that sends a token is the token's, whatever cookie came along
        claimed = int(user_id) if str(user_id).isdigit() else None
        return services.user_for_session(user_id, session.get("sid"), _along_for(claimed))

    @login_manager.request_loader
    def load_user_from_token(req):
        raw = bearer_token()
        if raw is None:
            return None
        found = services.caller_for_token(raw, _along_for(None))
        if found is None:
            return None
        g.api_token_id, user = found
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            return error_response(401, "unauthorized", _("Please sign in."))
        return redirect(url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None))

    @app.before_request
    def end_idle_sessions():
        """Shared computers: a browser session idle longer than the limit is ended on the server."""
        if "sid" not in session or bearer_token():
            return None
        now = utcnow().timestamp()
        idle_limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
        if now - session.get("seen", 0) > idle_limit:
            sid = session.get("sid")
            transaction.keep_whatever_happens(lambda: services.close_session(sid))
            logout_user()
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            if not wants_json():
                flash(_("You were signed out after a period of inactivity."), "warning")
            return None
        if now - session.get("seen", 0) >= SEEN_STEP_SECONDS:
            session["seen"] = now
        return None

    add_nav_item(
        app, NavItem("auth.account", _l("My account"), order=1, menu=USER_MENU, section=("auth.set_password",))
    )
