"""Time helpers: the portal stores UTC and shows the clinic's local time."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_date, format_datetime, format_time, get_locale, gettext


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
TIME_PATTERN = (
    "^" + _DAY + "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
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


# One way to write dates and times per language, everywhere the portal shows them (pages, notifications,
# e-mails): Babel patterns, so the names of months and weekdays come from the language's own data.
DISPLAY_FORMATS = {
    "ru": {
        "date": "dd.MM.yyyy",
        "time": "HH:mm",
        "datetime": "dd.MM.yyyy, HH:mm",
        "weekday_date": "EEE, dd.MM",
        "day_month": "dd.MM",
        "day_month_name": "d MMMM",
        "long_day": "EEEE, d MMMM",
        "long_day_year": "EEEE, d MMMM yyyy",
    },
    "en": {
        "date": "d MMM yyyy",
        "time": "HH:mm",
        "datetime": "d MMM yyyy, HH:mm",
        "weekday_date": "EEE, d MMM",
        "day_month": "d MMM",
        "day_month_name": "d MMMM",
        "long_day": "EEEE, d MMMM",
        "long_day_year": "EEEE, d MMMM yyyy",
    },
}
DISPLAY_LANGUAGE_FALLBACK = "ru"


def display_pattern(name):
    """The Babel pattern of the named format ("date", "time", "datetime", …) in the current language."""
    locale = get_locale()
    formats = DISPLAY_FORMATS.get(locale.language if locale else None, DISPLAY_FORMATS[DISPLAY_LANGUAGE_FALLBACK])
    return formats[name]


def format_local(value, tz_name, fmt="datetime"):
    """A UTC time in the clinic's zone, written the current language's way (a name of DISPLAY_FORMATS)."""
    if value is None:
        return ""
    local = to_local(value, tz_name).replace(tzinfo=None)
    if fmt == "time":
        return format_time(local, display_pattern(fmt), rebase=False)
    return format_datetime(local, display_pattern(fmt), rebase=False)


def format_local_span(start, end, tz_name):
    """'02.12.2026, 10:00–11:00' within a day; both dates in full when it runs over midnight."""
    if start is None or end is None:
        return ""
    same_day = to_local(start, tz_name).date() == to_local(end, tz_name).date()
    if same_day:
        return f"{format_local(start, tz_name)}–{format_local(end, tz_name, 'time')}"
    return f"{format_local(start, tz_name)} – {format_local(end, tz_name)}"


def format_day(day, fmt="date"):
    """A calendar date (no time of day), written the current language's way."""
    return format_date(day, display_pattern(fmt)) if day is not None else ""
