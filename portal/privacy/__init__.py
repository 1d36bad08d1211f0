"""Privacy (152-FZ): keep only what the work needs, for as long as it needs it."""


def init_app(app):
    from portal.privacy import cli  # noqa: F401  (registers the command)
