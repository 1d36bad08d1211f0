"""Sign-in (local and with the city account), sign-out, the user's own account page and the set-password link."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import city_accounts, devices, oidc, services
from portal.auth.forms import ChangePasswordForm, SetPasswordForm, SignInForm
from portal.auth.signin import attempt_sign_in
from portal.core import audit, transaction
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.core.urls import portal_url, safe_next
from portal.extensions import limiter

bp = Blueprint("auth", __name__, template_folder="templates")


def _failed_attempt(response):
    # Only failures count against the address: a room's computers share one
    # address and their successful sign-ins must never be slowed.
    return response.status_code != 302


def _address_limit():
    return current_app.config["SIGNIN_FAILURES_PER_ADDRESS"]


def _trusted_browser():
    """The account being signed in to signed in from this browser before (portal.auth.devices)."""
    account = services.normalise_email(request.form.get("email"))
    return devices.nonce_for(request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"]), account) is not None


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed_attempt, exempt_when=_trusted_browser)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = SignInForm()
    status, retry_after = 200, None
    if form.validate_on_submit():
        config = current_app.config
        device_cookie = request.cookies.get(config["DEVICE_COOKIE_NAME"])
        try:
            user = attempt_sign_in(form.email.data, form.password.data, device_cookie)
        except DomainError as error:
            form.password.errors.append(error.message)
            status, retry_after = error.status, getattr(error, "retry_after", None)
        else:
            start_browser_session(user)
            response = redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
            response.set_cookie(
                config["DEVICE_COOKIE_NAME"],
                devices.remembered(device_cookie, user.email),
                max_age=config["DEVICE_COOKIE_DAYS"] * 24 * 3600,
                secure=config["SESSION_COOKIE_SECURE"],
                httponly=True,
                samesite="Lax",
                path="/",
            )
            return response
    elif request.method == "POST":
        status = 400
    response = make_response(
        render_template(
            "auth/sign_in.html", form=form, city_sign_in=oidc.enabled(), local_form_folded=_local_form_folded(form)
        ),
        status,
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _local_form_folded(form):
    """PORTAL_LOCAL_SIGN_IN=staff: doctors use the city button; the local form waits, folded, for the others."""
    return oidc.enabled() and current_app.config["LOCAL_SIGN_IN"] == "staff" and not form.errors


def start_browser_session(user, id_token=None):
    """Replace whatever the browser had with a fresh server-side session for `user`."""
    lang = session.get("lang")
    session.clear()
    session["sid"] = services.open_session(user, ip=request.remote_addr, id_token=id_token)
    session["seen"] = utcnow().timestamp()
    if lang:
        user.locale = lang  # the language chosen last, before signing in, is the one kept for notifications
    if user.locale:
        session["lang"] = user.locale  # error pages read the language without loading the user
    login_user(user)


@bp.post("/sign-out")
def sign_out():
    """Ends the portal session; after a city sign-in also the provider's, where it offers an end-session endpoint
    (a shared computer must not let the next person in through the city account)."""
    id_token = services.close_session(session.get("sid"))
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    provider = oidc.client()
    if id_token and provider is not None:
        url = oidc.end_session_url(provider, id_token, portal_url("auth.sign_in", external=True))
        if url:
            return redirect(url)
    return redirect(url_for("auth.sign_in"))


# --- the city's identity provider -------------------------------------------------------------

NEXT_KEY = "city_sign_in_next"


def _provider():
    provider = oidc.client()
    if provider is None:
        abort(404)
    return provider


@bp.get("/sign-in/oidc")
def oidc_start():
    """Send the browser to the city provider (state, nonce and PKCE are kept in the signed session)."""
    provider = _provider()
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    try:
        return provider.authorize_redirect(portal_url("auth.oidc_callback", external=True))
    except oidc.FLOW_ERRORS:
        current_app.logger.warning("city sign-in: the provider cannot be reached", exc_info=True)
        return _city_sign_in_failed(
            _("The city sign-in service cannot be reached right now. Please try again in a few minutes."), 502
        )


@bp.get("/sign-in/oidc/callback")
def oidc_callback():
    """Where the provider sends the browser back. A GET from another site, so no CSRF token: the
    `state` Authlib checks against the session is what ties the answer to this browser's request."""
    provider = _provider()
    try:
        claims, id_token = oidc.claims_from_callback(provider)
    except oidc.FLOW_ERRORS as error:
        current_app.logger.warning("city sign-in refused: %s", error)
        details = {"via": "city", "reason": type(error).__name__}
        transaction.keep_whatever_happens(lambda: audit.record("sign_in_failed", details=details))
        return _city_sign_in_failed(
            _("The sign-in with the city account could not be completed. Please try again."), 400
        )
    config = current_app.config
    names = {
        "email": config["OIDC_CLAIM_EMAIL"],
        "name": config["OIDC_CLAIM_NAME"],
        "clinic": config["OIDC_CLAIM_CLINIC"],
    }
    try:
        user = city_accounts.sign_in_with_city_account(claims, claim_names=names, now=utcnow())
    except DomainError as error:
        details = {"via": "city", "code": error.code}
        transaction.keep_whatever_happens(lambda: audit.record("sign_in_refused", details=details))
        return _city_sign_in_failed(error.message, error.status)
    next_url = session.get(NEXT_KEY)
    start_browser_session(user, id_token=id_token)
    return redirect(next_url or url_for("core.dashboard"))


def _city_sign_in_failed(message, status):
    return render_template("auth/city_sign_in_failed.html", message=message), status


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
        return render_template(
            "core/error.html",
            status=404,
            message=_("This link is no longer valid. Ask your administrator for a new one."),
        ), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        flash(_("Your password is set. Please sign in."), "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form, user=user), 400 if form.errors else 200
