"""Small helpers shared by the API modules: reading JSON bodies and shaping answers."""
from flask import request
from flask_babel import gettext as _

from portal.core.errors import Invalid


def json_body():
    """The request's JSON object, or a 400 with the spec's error shape."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(_("Send a JSON object in the request body."), code="invalid_json")
    return data


# Every whole number the API takes (ids, minutes, seats) fits a database integer.
DATABASE_INT_MAX = 2**31 - 1


def field(data, name, kind, *, required=True, default=None):
    """Read one field of a JSON body and check its type (bool is not an int here)."""
    if name not in data or data[name] is None:
        if required:
            raise Invalid(_("The field %(name)s is required.", name=name), code="missing_field", field=name)
        return default
    value = data[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise Invalid(_("The field %(name)s must be a whole number.", name=name), code="invalid_field", field=name)
    if kind is int and not -DATABASE_INT_MAX <= value <= DATABASE_INT_MAX:
        raise Invalid(_("The field %(name)s is out of range.", name=name), code="invalid_field", field=name)
    if kind is not int and not isinstance(value, kind):
        raise Invalid(_("The field %(name)s has the wrong type.", name=name), code="invalid_field", field=name)
    return value


def int_arg(name, default=None, *, minimum=None, maximum=None):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(_("The parameter %(name)s must be a whole number.", name=name),
                      code="invalid_parameter", field=name) from None
    minimum = -DATABASE_INT_MAX if minimum is None else minimum
    maximum = DATABASE_INT_MAX if maximum is None else maximum
    if not minimum <= value <= maximum:
        raise Invalid(_("The parameter %(name)s is out of range.", name=name), code="invalid_parameter", field=name)
    return value


def items(objects, serialise, **extra):
    return {"items": [serialise(obj) for obj in objects], **extra}


def time_field(data, name):
    """A required ISO 8601 time with an offset from a JSON body, as aware UTC."""
    from portal.core.time import parse_iso

    value = parse_iso(field(data, name, str))
    if value is None:
        raise Invalid(_("The field %(name)s must be a date and time with an offset, e.g. "
                        "2026-03-02T10:00:00+03:00.", name=name), code="invalid_time", field=name)
    return value


def time_arg(name):
    """An optional ISO 8601 time with an offset from the query string (an unencoded '+' arrives as a space)."""
    from portal.core.time import parse_iso

    raw = request.args.get(name)
    if not raw:
        return None
    value = parse_iso(raw) or parse_iso(raw.replace(" ", "+"))
    if value is None:
        raise Invalid(_("The parameter %(name)s must be a date and time with an offset.", name=name),
                      code="invalid_parameter", field=name)
    return value
