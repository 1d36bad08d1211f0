"""Training feature."""


def init_app(app):
    from portal.training import models  # noqa: F401  (tables known to migrations)
