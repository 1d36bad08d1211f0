"""Scientific search proxy."""


def init_app(app):
    pass
