"""Demo data for trying the portal: `flask --app wsgi portal seed-demo`."""


def init_app(app):
    from portal.demo import cli  # noqa: F401  (registers the command)
