"""What doctors are told about their trainings, in their own language."""

from decimal import Decimal

from flask_babel import format_decimal, ngettext, pgettext

from portal.core.notifications import in_language_of, notify
from portal.core.time import format_local
from portal.core.urls import portal_url


def when(training):
    return format_local(training.start_at, training.room.timezone)


def format_hours(hours):
    """'2 академических часа', '1,5 академического часа' — Russian plural rules via the catalogue."""
    hours = Decimal(hours)
    if hours == hours.to_integral_value():
        count = int(hours)
        return ngettext("%(num)d academic hour", "%(num)d academic hours", count)
    # Russian uses the genitive singular after a fraction ("1,5 академического часа"): its own message.
    return pgettext("fractional number", "%(hours)s academic hours", hours=format_decimal(hours))


def tell(user, kind, message):
    """Notify `user` in their own language (not the actor's): `message()` returns (subject, body)."""
    if user is None:
        return
    with in_language_of(user):
        subject, body = message()
    notify(user, kind, subject, body, link=portal_url("training.catalogue"))
