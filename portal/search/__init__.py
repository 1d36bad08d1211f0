"""Literature search: upstream providers, the HTTP layer and the fan-out."""


def init_app(app):
    from portal.search import models  # noqa: F401  (tables known to migrations)
