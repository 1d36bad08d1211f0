"""Report months: "YYYY-MM" in and out, and their local first and last days."""

from datetime import timedelta

from flask_babel import gettext as _

from portal.core import time
from portal.core.errors import Invalid
from portal.core.time import to_local


def parse_month(text, tz_name, now):
    """The first day of month "YYYY-MM" (years 2000–2100); empty means the current month in the zone `tz_name`."""
    if not text:
        return to_local(now, tz_name).date().replace(day=1)
    first_day = time.parse_month(text)
    if first_day is None:
        raise Invalid(_("The month must look like 2026-11 (years 2000–2100)."), code="invalid_month", field="month")
    return first_day


def month_days(first_day):
    following = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_day, following - timedelta(days=1)


def previous_month(first_day):
    return (first_day - timedelta(days=1)).replace(day=1)
