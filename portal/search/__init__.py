"""Scientific search proxy."""


def init_app(app):
    from portal.search import models  # noqa: F401  (tables known to migrations)
