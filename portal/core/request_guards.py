"""Input refused before any view sees it, on every page and API call alike.

A path id beyond the database's integers (SQLite cannot even bind one above
2^63) and text no database can store (a NUL character, half of a UTF-16
surrogate pair) are the client's mistakes: a 400 naming the parameter, never
a database error. The API checks its JSON bodies the same way (portal.api.schema).
"""

import re

from flask import request
from flask_babel import gettext as _

from portal.core.db import DATABASE_INT_MAX
from portal.core.errors import Invalid

FORM_MIMETYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(name, value, code="invalid_parameter"):
    """The error for text that cannot be stored, or None when `value` (and the name) can be."""
    if not (UNSTORABLE.search(value) or UNSTORABLE.search(name)):
        return None
    name = UNSTORABLE.sub("", name)
    return Invalid(_("%(name)s contains a character that is not allowed.", name=name), code=code, field=name)


def reject_huge_ids(_endpoint, values):
    for name, value in (values or {}).items():
        if isinstance(value, int) and value > DATABASE_INT_MAX:
            raise Invalid(_("%(name)s is out of range.", name=name), code="invalid_parameter", field=name)


def reject_unstorable_text():
    fields = list(request.args.items(multi=True))
    if request.mimetype in FORM_MIMETYPES:
        fields += request.form.items(multi=True)
    for name, value in fields:
        if error := unstorable_text(name, value):
            raise error


def init_app(app):
    app.url_value_preprocessor(reject_huge_ids)
    app.before_request(reject_unstorable_text)
