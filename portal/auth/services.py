"""Sign-in, sessions, users and tokens: the rules, free of request objects (the city sign-in: city_accounts)."""

import csv
import functools
import hashlib
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Row, Select, bindparam, delete, func, literal_column, select, true, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from portal.auth import signin_limits
from portal.auth.models import ROLES, ApiToken, SignInSession, User, UserRole, hash_secret, new_secret
from portal.clinics.models import Clinic
from portal.clinics.services import clinic_by_short_name
from portal.core import audit, transaction, versioned_cache
from portal.core.db import utcnow
from portal.core.errors import Invalid, NotAllowed, RateLimited, Unauthorized
from portal.core.notifications import in_language_of, notify
from portal.core.permissions import can_administer_clinic, is_superadmin
from portal.core.urls import portal_url
from portal.extensions import db

MIN_PASSWORD_LENGTH = 10
# zxcvbn's score from 0 (guessed at once) to 4; 3 is its own advice for what to accept.
MIN_PASSWORD_SCORE = 3
SET_PASSWORD_MAX_AGE = 3 * 24 * 3600

# Callers (of a token or a browser session) are cached while no user, role, token or session changed
# (see track_token_callers).
TOKEN_SCOPES = ("auth:tokens",)
TOKEN_ENTRY_SECONDS = 60
# What a cached caller carries: every user column but the password hash, which stays in the database.
CALLER_ATTRIBUTES = tuple(attr for attr in User.__mapper__.column_attrs if attr.key != "password_hash")


def caller_fingerprint(user: User) -> str:
    """A short key of everything the layout shows of the caller (name, and the menus its roles and clinic
    open): a page kept under it is drawn again once any of them changes."""
    values = [getattr(user, attr.key) for attr in CALLER_ATTRIBUTES] + user.roles
    return hashlib.blake2b(repr(values).encode(), digest_size=12).hexdigest()


def normalise_email(raw: str | None) -> str:
    return (raw or "").strip().lower()


@functools.cache
def _unknown_account_hash(method: str) -> str:
    """Checked against when no account has the e-mail, so an unknown e-mail costs as much as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def count_sign_in_attempt(counted_as: str) -> int:
    """Record a sign-in attempt under `counted_as` (portal.auth.devices.counter_key) and return how many
    it has in the window.

    Counted before the password is looked at, and committed by the caller
    before it checks the password (portal.auth.signin), so attempts on other
    workers see it: concurrent guesses cannot all slip under the limit.
    """
    return signin_limits.counter().hit(counted_as)


def authenticate(email: str | None, password: str | None, attempts: int, *, counted_as: str) -> User:
    """Check a sign-in attempt, the `attempts`-th in the window under `counted_as`; return the user or
    raise Unauthorized / RateLimited.

    Every attempt is audited, a refused one too (its audit row outlives the
    request's rollback). A locked account (for unknown browsers, or this
    browser) is refused before the password is looked at, so guessing gains
    nothing while the lock lasts.
    """
    account = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == account))
    if attempts > current_app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]:
        _keep_refusal_audit("sign_in_refused_locked", user, account)
        minutes = current_app.config["SIGNIN_FAILURE_WINDOW_SECONDS"] // 60
        raise RateLimited(
            _("Too many failed sign-in attempts for this account. Try again in %(minutes)d minutes.", minutes=minutes),
            code="too_many_attempts",
            retry_after=current_app.config["SIGNIN_FAILURE_WINDOW_SECONDS"],
        )
    password_matches = check_password_hash(
        user.password_hash if user else _unknown_account_hash(current_app.config["PASSWORD_HASH_METHOD"]),
        password or "",
    )
    if user is None or not password_matches or not user.active:
        _keep_refusal_audit("sign_in_failed", user, account)
        if user is not None and not user.active and password_matches:
            raise account_inactive()
        raise Unauthorized(_("Wrong e-mail or password."), code="invalid_credentials")
    signin_limits.counter().clear(counted_as)
    refusal = _refusal_for_local_sign_in(user)
    if refusal is not None:
        _keep_refusal_audit("sign_in_refused", user, account, code=refusal.code)
        raise refusal
    audit.record("sign_in", actor=user)
    return user


def _keep_refusal_audit(action, user, account, **details):
    user_id = user.id if user is not None else None

    def record():
        audit.record(
            action, actor=db.session.get(User, user_id) if user_id else None, details={"email": account, **details}
        )

    transaction.keep_whatever_happens(record)


def account_inactive() -> Unauthorized:
    """The refusal a deactivated account gets, whichever way it signs in."""
    return Unauthorized(_("This account is deactivated. Ask your clinic's administrator."), code="account_inactive")


def _clinic_inactive():
    return Unauthorized(
        _("Your polyclinic is disconnected from the portal. Ask the city administrator."), code="clinic_inactive"
    )


def _refusal_for_local_sign_in(user):
    """Why a user with the right password may still not sign in here, or None.

    People of a deactivated clinic wait until it is active again. With
    PORTAL_LOCAL_SIGN_IN=staff and the city sign-in configured, doctors sign in
    only with their city account (their local password is not the city's).
    """
    if user.clinic is not None and not user.clinic.active:
        return _clinic_inactive()
    if (
        current_app.config["LOCAL_SIGN_IN"] == "staff"
        and current_app.config.get("OIDC_ISSUER")
        and user.roles == ["doctor"]
    ):
        return Unauthorized(
            _("Doctors sign in with their city account: use the button above."), code="use_city_sign_in"
        )
    return None


def open_session(user: User, ip: str | None = None, id_token: str | None = None) -> str:
    """Start a server-side session; returns the raw key to keep in the signed cookie.

    A sign-in through the city provider keeps its ID token here (not in the
    cookie): signing out hands it to the provider's end-session endpoint.
    """
    raw = new_secret()
    db.session.execute(
        delete(SignInSession).where(
            SignInSession.user_id == user.id, SignInSession.created_at <= _sessions_born_after(utcnow())
        )
    )
    db.session.add(SignInSession(key_hash=hash_secret(raw), user_id=user.id, ip=ip, id_token=id_token))
    return raw


def close_session(raw_key: str | None) -> str | None:
    """End one browser session; returns its city ID token (None after a local sign-in)."""
    if not raw_key:
        return None
    return db.session.scalar(
        delete(SignInSession).where(SignInSession.key_hash == hash_secret(raw_key)).returning(SignInSession.id_token)
    )


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(SignInSession).where(SignInSession.user_id == user.id))


@dataclass
class ReadAlong:
    """A view's first read, sent to the database in the same statement as its caller's: a page that is
    otherwise kept then costs one round trip (see ``portal.auth.read_with_caller``).

    ``statement``: a Core select of at most one row, with bind parameters only, none named as the
    caller's (``key_hash``, ``token_hash``). ``row`` holds its answer once ``read`` (None: no row).
    """

    statement: Select
    params: dict
    read: bool = False
    row: Row | None = None


def user_for_session(user_id: str, raw_key: str | None, along: ReadAlong | None = None) -> User | None:
    """The active user of a browser session that has not outlived SESSION_LIFETIME_HOURS, else None.

    Every page asks this: it costs what a token check costs (`caller_for_token`), one Core query or,
    with Redis, none until a user, a role, a token or a session changes. ``along`` is read in the
    same statement when the caller is read from the database.
    """
    if not raw_key or not str(user_id).isdigit():
        return None
    key_hash = hash_secret(raw_key)
    found = versioned_cache.get_or_compute(
        TOKEN_SCOPES,
        f"auth:session:{key_hash}",
        lambda: (_read_caller(SESSION_CALLER, {"key_hash": key_hash}, along), None),
        lifetime=TOKEN_ENTRY_SECONDS,
    )
    if found is None:
        return None
    created_at, columns, roles = found
    if columns["id"] != int(user_id) or created_at <= _sessions_born_after(utcnow()):
        return None
    return _attached_user(columns, roles)


def _sessions_born_after(now):
    return now - timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])


def purge_expired_sessions(now: datetime) -> int:
    """Delete the rows of browser sessions past their absolute lifetime (a periodic job); returns how many."""
    return db.session.execute(
        delete(SignInSession).where(SignInSession.created_at <= _sessions_born_after(now))
    ).rowcount


def caller_for_token(raw: str | None, along: ReadAlong | None = None) -> tuple[int, User] | None:
    """``(token_id, user)`` for an active token of an active user, else None.

    Every API call asks this, so it stays cheap: one Core query reads the
    token, its user and the user's roles, and with Redis the answer is cached
    until any user, role or token changes (portal.core.versioned_cache). The
    user is attached to the session as if just loaded, without SQL; what the
    answer does not carry (the password hash, the clinic) loads on first use.
    ``along`` is read in the same statement when the caller is read from the database.
    """
    token_hash = hash_secret(raw)
    found = versioned_cache.get_or_compute(
        TOKEN_SCOPES,
        f"auth:token:{token_hash}",
        lambda: (_read_caller(TOKEN_CALLER, {"token_hash": token_hash}, along), None),
        lifetime=TOKEN_ENTRY_SECONDS,
    )
    if found is None:
        return None
    token_id, columns, roles = found
    return token_id, _attached_user(columns, roles)


def _token_caller_statement():
    # Built once: composing the statement cost more than running it.
    users, tokens, roles = User.__table__, ApiToken.__table__, UserRole.__table__
    return (
        select(tokens.c.id, roles.c.role, *(users.c[attr.columns[0].key] for attr in CALLER_ATTRIBUTES))
        .join_from(tokens, users, tokens.c.user_id == users.c.id)
        .outerjoin(roles, roles.c.user_id == users.c.id)
        .where(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked_at.is_(None), users.c.active.is_(True))
    )


TOKEN_CALLER = _token_caller_statement()


def _session_caller_statement():
    users, sessions, roles = User.__table__, SignInSession.__table__, UserRole.__table__
    return (
        select(sessions.c.created_at, roles.c.role, *(users.c[attr.columns[0].key] for attr in CALLER_ATTRIBUTES))
        .join_from(sessions, users, sessions.c.user_id == users.c.id)
        .outerjoin(roles, roles.c.user_id == users.c.id)
        .where(sessions.c.key_hash == bindparam("key_hash"), users.c.active.is_(True))
    )


SESSION_CALLER = _session_caller_statement()


def _read_caller(statement, params, along):
    """The caller as ``_caller`` gives it, with ``along`` read in the same statement.

    Through the request's own session: a request never holds two connections (on SQLite a second one
    would wait for the first one's write lock).
    """
    if along is None:
        return _caller(db.session.execute(statement, params).all())
    rows = db.session.execute(_caller_with(statement, along.statement), {**params, **along.params}).all()
    width = len(statement.selected_columns)
    # The along columns come after a marker that is NULL when the along read found no row.
    along.read, along.row = True, (rows[0][width + 1 :] if rows and rows[0][width] is not None else None)
    return _caller([row[:width] for row in rows])


@functools.cache
def _caller_with(caller_statement, along_statement):
    """``caller_statement``'s rows, each followed by a marker and ``along_statement``'s one row."""
    along = along_statement.add_columns(literal_column("1").label("along_found")).subquery("along")
    marker, *columns = (along.c.along_found, *(c for c in along.c if c.key != "along_found"))
    return caller_statement.add_columns(marker, *columns).outerjoin(along, true())


def _caller(rows):
    """(the token's id or the session's start, the user's columns, the user's roles) from the joined rows."""
    if not rows:
        return None
    columns = {attr.key: value for attr, value in zip(CALLER_ATTRIBUTES, rows[0][2:], strict=True)}
    return rows[0][0], columns, sorted(row[1] for row in rows if row[1] is not None)


def _attached_user(columns, roles):
    session = db.session()
    loaded = session.identity_map.get(session.identity_key(User, columns["id"]))
    if loaded is not None:
        return loaded  # this session already holds the user (a test's, or a CLI's)
    user = User(**columns)
    role_rows = [UserRole(user_id=user.id, role=role) for role in roles]
    for instance in (user, *role_rows):
        make_transient_to_detached(instance)
    set_committed_value(user, "role_rows", role_rows)
    session.add(user)
    return user


def track_token_callers() -> None:
    """Any committed change to a user, a role, a token or a browser session ends every cached caller."""
    for model in (User, UserRole, ApiToken, SignInSession):
        versioned_cache.track(model, lambda row: TOKEN_SCOPES, bulk_scopes=TOKEN_SCOPES)


def check_password_strength(
    password: str | None, field: str = "password", *, user_inputs: Iterable[str | None] = ()
) -> None:
    """Refuse short passwords and guessable ones (zxcvbn: common words and passwords, keyboard rows,
    repeats, sequences, dates, the user's own name or e-mail), saying why."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            code="weak_password",
            field=field,
        )
    words = [part for text in user_inputs if text for part in re.split(r"[\s@.\-_]+", text.lower()) if part]
    verdict = zxcvbn(password, user_inputs=words)
    if verdict["score"] >= MIN_PASSWORD_SCORE:
        return
    raise Invalid(_password_weakness(verdict["sequence"]), code="weak_password", field=field)


def _password_weakness(sequence):
    """Why zxcvbn finds a password guessable, from the longest pattern it found."""
    match = max((m for m in sequence if m["pattern"] != "bruteforce"), key=lambda m: len(m["token"]), default=None)
    pattern = match["pattern"] if match else None
    if pattern == "dictionary" and match.get("dictionary_name") == "user_inputs":
        return _("The password must not contain your name or your e-mail address.")
    if pattern == "dictionary":
        return _(
            "This password, or a word in it, is among the most common ones: it is guessed first. "
            "Add a few unrelated words."
        )
    if pattern == "spatial":
        return _("Rows of keys such as “qwerty” are easy to guess. Add a few unrelated words.")
    if pattern == "repeat":
        return _("Repeated characters such as “aaa” or “abcabc” are easy to guess. Add a few unrelated words.")
    if pattern == "sequence":
        return _("Sequences such as “abcd” or “1234” are easy to guess. Add a few unrelated words.")
    if pattern in ("date", "regex"):
        return _("Dates and years are easy to guess. Add a few unrelated words.")
    return _("This password is too easy to guess. Add a few unrelated words.")


def change_password(user: User, current_password: str | None, new_password: str | None) -> None:
    if not user.check_password(current_password or ""):
        raise Invalid(_("The current password is wrong."), code="invalid_credentials", field="current_password")
    set_password(user, new_password)


def set_password(user: User, new_password: str | None) -> None:
    """Set a password; every session and API token of the user ends (a copied cookie or token stops working)."""
    check_password_strength(new_password, user_inputs=(user.email, user.full_name))
    user.set_password(new_password)
    end_all_sessions(user)
    revoke_all_tokens(user)
    audit.record("password_changed", actor=user, obj=user)


def revoke_all_tokens(user: User) -> None:
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def set_password_token(user: User) -> str:
    # The hash fragment makes the link single-use: it dies once the password changes.
    return _serializer().dumps({"id": user.id, "p": user.password_hash[-12:]})


def send_invitation(user: User) -> None:
    """Tell a new user (created without a password) where to set one; the link lasts three days."""
    link = portal_url("auth.set_password", token=set_password_token(user), external=True)
    with in_language_of(user):
        notify(
            user,
            "account_created",
            _("Your Growth Room Portal account"),
            _("Set your password here: %(link)s", link=link),
        )


def user_for_set_password_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=SET_PASSWORD_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or not user.active or user.password_hash[-12:] != data.get("p"):
        return None
    return user


def _validated_email(raw):
    try:
        return validate_email(raw or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise Invalid(_("Enter a valid e-mail address."), code="invalid_email", field="email") from None


def create_user(
    actor: User | None,
    *,
    email: str | None,
    full_name: str | None,
    role: str | Iterable[str] | None,
    clinic: Clinic | None = None,
    password: str | None = None,
    position: str | None = None,
    specialty: str | None = None,
) -> User:
    """Create a user. Admins create users of their own clinic only and never grant superadmin.

    `actor` None means the command line (trusted). Without a password the
    user gets an unusable random one and is mailed a link to set their own.
    """
    email = _validated_email(email)
    full_name = (full_name or "").strip()
    if not full_name or len(full_name) > 200:
        raise Invalid(_("Enter the full name (up to 200 characters)."), code="invalid_name", field="full_name")
    roles = [role] if isinstance(role, str) else list(role or [])
    if not roles or any(r not in ROLES for r in roles):
        raise Invalid(_("Choose a role: doctor, trainer, admin or superadmin."), code="invalid_role", field="role")
    if "superadmin" in roles and actor is not None and not is_superadmin(actor):
        raise NotAllowed(_("Only a city administrator can create city administrators."))
    if clinic is None and roles != ["superadmin"]:
        raise Invalid(_("Every role but superadmin needs a clinic."), code="clinic_required", field="clinic_id")
    if clinic is not None and actor is not None and not can_administer_clinic(actor, clinic.id):
        raise NotAllowed(_("You can only add users to your own clinic."))
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Invalid(_("A user with this e-mail already exists."), code="email_taken", field="email")
    if password is not None:
        check_password_strength(password, user_inputs=(email, full_name))
    user = User(email=email, full_name=full_name, clinic=clinic, position=position, specialty=specialty)
    user.set_roles(roles)
    user.set_password(password if password is not None else secrets.token_urlsafe(24))
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_created",
        actor=actor,
        clinic_id=clinic.id if clinic else None,
        obj=user,
        details={"email": email, "roles": roles},
    )
    if password is None:
        send_invitation(user)
    return user


def set_active(actor: User | None, user: User, active: bool) -> None:
    """Deactivating a user ends their sessions and API tokens at once.

    Nobody deactivates their own account: an admin would lock themselves out
    (and perhaps leave the clinic without an admin) by one wrong click.
    """
    if actor is not None and not can_administer_clinic(actor, user.clinic_id):
        raise NotAllowed(_("You can only manage users of your own clinic."))
    if actor is not None and not active and user.id == actor.id:
        raise Invalid(_("You cannot deactivate your own account."), code="own_account", field="active")
    if user.is_superadmin and actor is not None and not is_superadmin(actor):
        raise NotAllowed(_("Only a city administrator can change city administrators."))
    user.active = active
    if not active:
        end_all_sessions(user)
        revoke_all_tokens(user)
    audit.record("user_activated" if active else "user_deactivated", actor=actor, clinic_id=user.clinic_id, obj=user)


def set_roles(actor: User | None, user: User, roles: str | Iterable[str] | None) -> None:
    """Replace a user's roles. Admins manage their own clinic only and never grant or touch superadmin.

    An admin cannot drop their own admin role: the clinic would risk being
    left without anyone to manage it.
    """
    roles = sorted(set([roles] if isinstance(roles, str) else roles or []))
    if not roles or any(role not in ROLES for role in roles):
        raise Invalid(_("Choose a role: doctor, trainer, admin or superadmin."), code="invalid_role", field="roles")
    if actor is not None and not is_superadmin(actor):
        if not can_administer_clinic(actor, user.clinic_id):
            raise NotAllowed(_("You can only manage users of your own clinic."))
        if "superadmin" in roles or user.is_superadmin:
            raise NotAllowed(_("Only a city administrator can change city administrators."))
        if user.id == actor.id and "admin" not in roles:
            raise Invalid(_("You cannot remove your own administrator role."), code="own_admin_role", field="roles")
    if user.clinic_id is None and roles != ["superadmin"]:
        raise Invalid(_("Every role but superadmin needs a clinic."), code="clinic_required", field="roles")
    before = user.roles
    user.set_roles(roles)
    db.session.flush()
    audit.record(
        "user_roles_changed",
        actor=actor,
        clinic_id=user.clinic_id,
        obj=user,
        details={"before": before, "after": roles},
    )


def issue_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    token, raw = ApiToken.issue(user, name)
    db.session.flush()
    audit.record("api_token_created", actor=user, obj=token)
    return token, raw


def revoke_token(token: ApiToken, actor: User | None = None) -> None:
    token.revoked_at = utcnow()
    audit.record("api_token_revoked", actor=actor or token.user, obj=token)


def end_clinic_access(clinic: Clinic, *, actor: User | None, now: datetime) -> None:
    """A deactivated clinic's people are signed out everywhere and their API tokens stop working."""
    people = select(User.id).where(User.clinic_id == clinic.id)
    db.session.execute(delete(SignInSession).where(SignInSession.user_id.in_(people)))
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id.in_(people), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


IMPORT_COLUMNS = ("email", "full_name", "role", "clinic")


def import_users(text: str) -> tuple[list[User], list[str]]:
    """Bulk staff import from CSV; all rows are checked first and nothing is written if any is bad.

    Returns (created_users, problems) where problems is a list of "row N: why".
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [_("header: missing columns %(cols)s", cols=", ".join(missing))]
    problems, created, seen = [], [], set()
    for number, row in enumerate(reader, start=2):
        email = normalise_email(row.get("email"))
        if email in seen:
            problems.append(_("row %(n)d: %(email)s appears twice in the file", n=number, email=email))
            continue
        seen.add(email)
        clinic = clinic_by_short_name((row.get("clinic") or "").strip()) if row.get("clinic") else None
        if row.get("clinic") and clinic is None:
            problems.append(_("row %(n)d: unknown clinic %(c)s", n=number, c=row.get("clinic")))
            continue
        try:
            with db.session.begin_nested():
                created.append(
                    create_user(
                        None,
                        email=email,
                        full_name=row.get("full_name"),
                        role=(row.get("role") or "").strip(),
                        clinic=clinic,
                        password=(row.get("password") or None),
                    )
                )
        except (Invalid, NotAllowed) as error:
            problems.append(_("row %(n)d: %(why)s", n=number, why=error.message))
    if problems:
        return [], problems  # the command fails, and with it everything this import wrote
    return created, []


def users_of_clinic(
    clinic_id: int, *, search: str | None = None, role: str | None = None, active: bool | None = None
) -> Sequence[User]:
    """The people of a clinic for its admins, by name; narrowed by a name/e-mail search, role, active flag."""
    query = select(User).where(User.clinic_id == clinic_id).order_by(User.full_name, User.id)
    if search:
        # ilike with the text as typed: SQLite folds only ASCII case, PostgreSQL folds Cyrillic too.
        pattern = f"%{search.strip()}%"
        query = query.where(User.full_name.ilike(pattern) | User.email.ilike(pattern))
    if role:
        query = query.where(User.role_rows.any(UserRole.role == role))
    if active is not None:
        query = query.where(User.active.is_(active))
    return db.session.scalars(query).all()


def clinic_admins(clinic_id: int) -> Sequence[User]:
    return db.session.scalars(
        select(User).join(UserRole).where(User.clinic_id == clinic_id, UserRole.role == "admin", User.active.is_(True))
    ).all()
