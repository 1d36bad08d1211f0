"""Notifications: an in-app list for every user, and e-mail for the kinds they want.

Both are written in the caller's transaction: the in-app row, and the e-mail
into the durable outbox (portal.core.mail) that the worker delivers. Nobody is
told about a booking that was rolled back, and no request waits for SMTP.
"""

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select, update

from portal.core.db import utcnow
from portal.core.mail import queue_mail
from portal.core.models import Notification
from portal.extensions import db

PEOPLE_DIRECTORY = "portal_people_directory"


def notify(user, kind, subject, body="", link=None):
    """Tell `user` something: always in the portal, by e-mail unless they opted out of `kind`."""
    if user is None or not user.active:
        return None
    note = Notification(user_id=user.id, kind=kind, subject=str(subject), body=str(body), link=link)
    db.session.add(note)
    if user.wants_email(kind):
        queue_mail(user.email, subject, body)
    return note


def notify_clinic_admins(clinic_id, kind, message, link=None, *, except_user_id=None):
    """Tell every active administrator of a clinic, each in their own language: `message()` returns
    (subject, body) and is called once per administrator (the people directory is auth's: `set_people_directory`)."""
    for admin in current_app.extensions[PEOPLE_DIRECTORY].clinic_admins(clinic_id):
        if admin.id != except_user_id:
            with in_language_of(admin):
                subject, body = message()
                notify(admin, kind, subject, body, link=link)


def set_people_directory(app, directory):
    """Core knows no user model: the auth package hands it `directory.clinic_admins(clinic_id)` at start."""
    app.extensions[PEOPLE_DIRECTORY] = directory


def in_language_of(user):
    """Messages to a user are written in their language, not in the language of whoever acted."""
    return force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])


def register_kinds(app, kinds):
    """Features name the notification kinds a user may switch off for e-mail: {kind: label}."""
    app.extensions.setdefault("portal_notification_kinds", {}).update(kinds)


def optional_kinds(app):
    return app.extensions.get("portal_notification_kinds", {})


def set_email_choices(user, wanted, known):
    """Keep e-mail for the `wanted` kinds among `known`; opt-outs of other kinds stay as they were."""
    kept = [kind for kind in user.email_opt_out.split() if kind not in known]
    user.email_opt_out = " ".join(kept + [kind for kind in known if kind not in wanted])


def unread_count(user):
    return db.session.scalar(select(unread_count_of(user.id)))


def unread_count_of(user_id):
    """The user's unread notifications as a scalar subquery, to read along with what a page reads anyway."""
    # Table columns, not the mapped class: a statement with none of the ORM's runs on Core's shorter path.
    notifications = Notification.__table__
    return (
        select(func.count())
        .select_from(notifications)
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        .scalar_subquery()
    )


def recent(user, limit=50):
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


def mark_all_read(user):
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
