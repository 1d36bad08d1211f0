"""Clinics, rooms, opening hours, closures, policy, workstations, equipment and problem reports."""


def init_app(app):
    from portal.clinics import cli, models, views  # noqa: F401  (tables known to migrations; CLI commands)

    from portal.clinics.labels import kind_label, status_label

    app.register_blueprint(views.bp)
    app.jinja_env.globals.update(status_label=status_label, kind_label=kind_label)
