"""Sign-in, sign-out, the user's own account page and the set-password link."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import services
from portal.auth.forms import ChangePasswordForm, SetPasswordForm, SignInForm
from portal.auth.signin import attempt_sign_in
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.core.urls import safe_next
from portal.extensions import limiter

bp = Blueprint("auth", __name__, template_folder="templates")


def _failed_attempt(response):
    # Only failures count against the address: a room's computers share one
    # address and their successful sign-ins must never be slowed.
    return response.status_code != 302


def _address_limit():
    return current_app.config["SIGNIN_FAILURES_PER_ADDRESS"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed_attempt)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = attempt_sign_in(form.email.data, form.password.data)
        except DomainError as error:
            form.password.errors.append(error.message)
            status = error.status
        else:
            start_browser_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/sign_in.html", form=form), status


def start_browser_session(user):
    """Replace whatever the browser had with a fresh server-side session for `user`."""
    lang = session.get("lang")
    session.clear()
    session["sid"] = services.open_session(user, ip=request.remote_addr)
    session["seen"] = utcnow().timestamp()
    if lang and not user.locale:
        user.locale = lang
    if user.locale:
        session["lang"] = user.locale  # error pages read the language without loading the user
    login_user(user)


@bp.post("/sign-out")
def sign_out():
    services.close_session(session.get("sid"))
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except DomainError as error:
            getattr(form, error.field or "password").errors.append(error.message)
        else:
            start_browser_session(user)
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 400 if form.errors else 200


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    user = services.user_for_set_password_token(token)
    if user is None:
        return render_template("core/error.html", status=404,
                               message=_("This link is no longer valid. Ask your administrator for a new one.")), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        flash(_("Your password is set. Please sign in."), "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form, user=user), 400 if form.errors else 200
