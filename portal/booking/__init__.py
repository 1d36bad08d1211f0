"""Booking feature."""


def init_app(app):
    from portal.booking import models  # noqa: F401  (tables known to migrations)
