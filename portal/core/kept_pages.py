"""Whole pages kept for one viewer and served again with the request's own CSRF token.

A page that is costly to draw and asked for again and again (a room's
schedule) is rendered once per viewer and state with a stand-in where each
CSRF token goes; every answer puts the request's token there. The layout
around the page is part of the key (`layout_key`): the viewer as the menus
show them, the unread notifications, the language and the address (the
language switch returns to it). A request with a flashed message waiting
is drawn afresh: the message shows once.
"""

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

STAND_IN = "kept-page-csrf-token"


def layout_key(viewer_fingerprint: str, unread_notifications: int) -> str | None:
    """What the layout of this request shows, as part of a key; None when the page must be drawn afresh.

    ``unread_notifications``: as ``portal.core.notifications.unread_count_of`` read it in this request.
    """
    if session.get("_flashes"):
        return None
    return f"{viewer_fingerprint}:{unread_notifications}:{get_locale()}:{request.full_path}"


def render_with_stand_in(render):
    """``render()`` returns ``(html, valid_until)``; drawn with the stand-in for every CSRF token, it is
    kept as the page's UTF-8 bytes cut at each stand-in (``serve`` joins them), with ``valid_until``."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    own_token = g.pop(field, None)
    setattr(g, field, STAND_IN)
    try:
        html, valid_until = render()
    finally:
        g.pop(field, None)
        if own_token is not None:
            setattr(g, field, own_token)
    return tuple(html.encode().split(STAND_IN.encode())), valid_until


def serve(parts: tuple[bytes, ...]) -> bytes:
    """The kept page with this request's CSRF token, ready to send."""
    return generate_csrf().encode().join(parts)
