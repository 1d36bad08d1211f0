"""Clinics, rooms, opening hours, closures, policy, workstations, equipment and problem reports."""

from flask_babel import lazy_gettext as _l


def init_app(app):
    from portal.clinics import cli, models, views  # noqa: F401  (tables known to migrations; CLI commands)
    from portal.clinics.labels import kind_label, status_label
    from portal.core.notifications import register_kinds

    app.register_blueprint(views.bp)
    register_kinds(
        app,
        {
            "problem_reported": _l("A doctor reported a problem in my clinic (administrators)"),
            "problem_resolved": _l("A problem I reported is resolved"),
        },
    )
    app.jinja_env.globals.update(status_label=status_label, kind_label=kind_label)
