"""Admin screens; owns no models, calls the other packages' services."""

from flask_babel import lazy_gettext as _l


def _dashboard_panel(user):
    """Admins of a clinic see its state on their dashboard."""
    from flask import render_template
    from markupsafe import Markup

    from portal.clinics.permissions import is_admin
    from portal.core.db import utcnow
    from portal.reports.summary import clinic_summary

    if not is_admin(user) or user.clinic is None:
        return None
    clinic = user.clinic
    return Markup(
        render_template("admin/_dashboard_panel.html", clinic=clinic, summary=clinic_summary(clinic, utcnow()))
    )


def init_app(app):
    from portal.admin import city_view, onboarding, views  # noqa: F401  (their routes join the admin blueprint)
    from portal.clinics.permissions import is_admin
    from portal.core.nav import ADMIN_MENU, NavItem, add_dashboard_panel, add_nav_item
    from portal.core.permissions import is_superadmin

    app.register_blueprint(views.bp)
    add_nav_item(
        app,
        NavItem(
            "admin.index", _l("Clinics and rooms"), visible=is_admin, order=700, menu=ADMIN_MENU, section=("admin.*",)
        ),
    )
    add_nav_item(app, NavItem("admin.audit", _l("Audit log"), visible=is_admin, order=710, menu=ADMIN_MENU))
    add_nav_item(
        app,
        NavItem(
            "admin.city_report",
            _l("The city's view"),
            visible=is_superadmin,
            order=715,
            menu=ADMIN_MENU,
            section=("admin.city_report_csv",),
        ),
    )
    add_dashboard_panel(app, _dashboard_panel, order=50)
