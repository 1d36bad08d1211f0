"""Links that leave the portal (e-mails, calendar feeds, QR codes) are built on PORTAL_BASE_URL.

Never on a request's Host header, which a client controls, and the same from the
command line, where there is no request at all.
"""
from urllib.parse import urlsplit

from flask import current_app


def portal_url(endpoint, external=False, **values):
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=external)
