"""Clinics, rooms, opening hours, closures, booking policy, workstations."""


def init_app(app):
    from portal.clinics import models  # noqa: F401  (tables known to migrations)
