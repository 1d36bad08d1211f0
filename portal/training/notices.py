"""What doctors are told about their trainings, in their own language."""
from portal.core.notifications import in_language_of, notify
from portal.core.time import format_local
from portal.core.urls import portal_url


def when(training):
    return format_local(training.start_at, training.room.timezone)


def tell(user, kind, message):
    """Notify `user` in their own language (not the actor's): `message()` returns (subject, body)."""
    if user is None:
        return
    with in_language_of(user):
        subject, body = message()
    notify(user, kind, subject, body, link=portal_url("training.catalogue"))
