"""Privacy (152-FZ): keep only what the work needs, for as long as it needs it."""


def init_app(app):
    from datetime import timedelta

    from portal.core.worker import register_job
    from portal.privacy import cli  # (also registers the command)

    register_job(app, "anonymise-history", every=timedelta(days=1), run=cli.anonymise)
