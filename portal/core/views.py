"""The pages every user sees: home, dashboard, notifications, language switch."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import notifications
from portal.core.forms import email_preferences_form
from portal.core.nav import dashboard_panels
from portal.core.urls import safe_next

bp = Blueprint("core", __name__, template_folder="templates", static_folder="static", static_url_path="/static/core")


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    return redirect(url_for("auth.sign_in"))


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template("core/dashboard.html", panels=dashboard_panels(current_app, current_user))


@bp.get("/notifications")
@login_required
def notification_list():
    items = notifications.recent(current_user)
    return render_template("core/notifications.html", items=items)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    notifications.mark_all_read(current_user)
    return redirect(url_for("core.notification_list"))


@bp.route("/notifications/email", methods=["GET", "POST"])
@login_required
def email_preferences():
    user = current_user._get_current_object()
    kinds = notifications.optional_kinds(current_app)
    form = email_preferences_form(user, kinds)
    if form.validate_on_submit():
        notifications.set_email_choices(user, [kind for kind in kinds if form[kind].data], list(kinds))
        flash(_("Your e-mail preferences are saved."), "success")
        return redirect(url_for("core.email_preferences"))
    return render_template("core/email_preferences.html", form=form, kinds=kinds)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


@bp.app_context_processor
def inject_layout():
    from portal.core.nav import navigation

    layout = {
        "idle_timeout_minutes": current_app.config["IDLE_TIMEOUT_MINUTES"],
        "current_language": _current_language(),
        "nav_entries": [],
        "user_menu_links": [],
        "current_nav_item": None,
        "unread_notifications": 0,
        "answering_error": g.get("answering_error", False),
    }
    if layout["answering_error"]:
        return layout  # an error page reads nothing more from the database (see core.errors)
    user = current_user
    if user.is_authenticated:
        entries, user_links, current = navigation(current_app, user, request.endpoint)
        layout.update(
            nav_entries=entries,
            user_menu_links=user_links,
            current_nav_item=current,
            unread_notifications=notifications.unread_count(user),
        )
    return layout


def _current_language():
    from flask_babel import get_locale

    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
