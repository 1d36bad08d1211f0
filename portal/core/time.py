"""Time helpers: the portal stores UTC and shows the clinic's local time."""
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_datetime as babel_format_datetime
from flask_babel import gettext


def zone(name):
    try:
        return ZoneInfo(name or "Europe/Moscow")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def is_valid_timezone(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long to be a file name
        return False
    return True


def to_local(value, tz_name):
    return value.astimezone(zone(tz_name)) if value else None


def local_to_utc(naive_local, tz_name):
    return naive_local.replace(tzinfo=zone(tz_name)).astimezone(UTC)


# Every date the portal takes in lies in these years: far enough either way for any booking,
# report or history, and nowhere near the ends of Python's or the databases' calendars.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def in_sane_years(value):
    """True when a date or time lies in the portal's years (rules check it again for callers without a form)."""
    return value is not None and EARLIEST_YEAR <= value.year <= LATEST_YEAR


def sane_years_message():
    """What a date outside the portal's years says, in forms and API errors alike."""
    return gettext("Choose a date from %(first)d to %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR)


_YEAR = "(20[0-9]{2}|2100)"
_DAY = _YEAR + "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
# The same expressions go into the OpenAPI document, so they use what JSON Schema's regexes share with Python's.
MONTH_PATTERN = "^" + _YEAR + "-(0[1-9]|1[0-2])$"
DAY_PATTERN = "^" + _DAY + "$"
# RFC 3339 with an offset of whole minutes (no "+02:30:17", no naive times).
TIME_PATTERN = ("^" + _DAY + "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?"
                "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
# A wall-clock time as browsers send it from <input type="datetime-local">.
LOCAL_TIME_PATTERN = "^" + _DAY + "T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _matching(pattern, text, parse):
    if not isinstance(text, str) or not re.fullmatch(pattern, text):
        return None
    try:
        return parse(text)
    except ValueError:  # a day the month does not have
        return None


def parse_iso(text):
    """An RFC 3339 time with an offset in the portal's years, as aware UTC; None for anything else."""
    value = _matching(TIME_PATTERN, text, datetime.fromisoformat)
    return value.astimezone(UTC) if value else None


def parse_day(text):
    """A date "YYYY-MM-DD" in the portal's years, or None."""
    return _matching(DAY_PATTERN, text, date.fromisoformat)


def parse_month(text):
    """The first day of a month "YYYY-MM" in the portal's years, or None."""
    return _matching(MONTH_PATTERN, text, lambda value: date.fromisoformat(value + "-01"))


def parse_local_time(text):
    """A naive wall-clock time "YYYY-MM-DDTHH:MM[:SS]" in the portal's years, or None."""
    return _matching(LOCAL_TIME_PATTERN, text, datetime.fromisoformat)


def iso(value, tz_name=None):
    if value is None:
        return None
    return (to_local(value, tz_name) if tz_name else value).isoformat()


def format_local(value, tz_name, fmt="short"):
    """Format a UTC time in the clinic's zone, in the user's language."""
    if value is None:
        return ""
    return babel_format_datetime(to_local(value, tz_name).replace(tzinfo=None), fmt, rebase=False)
