"""Time helpers: the portal stores UTC and shows the clinic's local time."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_datetime as babel_format_datetime


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
    return naive_local.replace(tzinfo=zone(tz_name)).astimezone(timezone.utc)


def parse_iso(text):
    """Parse an ISO 8601 time with an offset; None when absent or malformed or naive."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(timezone.utc)


def iso(value, tz_name=None):
    if value is None:
        return None
    return (to_local(value, tz_name) if tz_name else value).isoformat()


def format_local(value, tz_name, fmt="short"):
    """Format a UTC time in the clinic's zone, in the user's language."""
    if value is None:
        return ""
    return babel_format_datetime(to_local(value, tz_name).replace(tzinfo=None), fmt, rebase=False)
