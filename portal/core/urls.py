"""Links the portal builds and follows.

Links that leave the portal (e-mails, calendar feeds, QR codes) are built on
PORTAL_BASE_URL: never on a request's Host header, which a client controls,
and the same from the command line, where there is no request at all.
"""

from urllib.parse import urlsplit

from flask import current_app


def portal_url(endpoint, external=False, **values):
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=external)


def safe_next(target):
    """`target` if it is a path of this portal, as a browser would read it; else None.

    Browsers drop tabs and line breaks anywhere in a URL and read a backslash as
    a slash, so "/<tab>/evil.example" and "/<backslash>evil.example" lead off-site:
    any control character or backslash refuses the target outright.
    """
    if not target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
