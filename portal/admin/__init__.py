"""Admin screens; owns no models, calls the other packages' services."""


def init_app(app):
    pass
