"""Literature search: upstream providers, the HTTP layer, the fan-out, and
the portal's search pages, reading list and clinic settings on top."""

from flask_babel import lazy_gettext as _l


def _is_clinic_admin(user):
    return user.is_superadmin or (user.clinic_id is not None and user.has_role("admin"))


def init_app(app):
    from datetime import timedelta

    from portal.core.nav import ADMIN_MENU, USER_MENU, NavItem, add_nav_item
    from portal.core.worker import register_job
    from portal.search import models, ratelimit, services, usage, views  # noqa: F401  (tables known to migrations)
    from portal.search.guidelines import catalogue, cli
    from portal.search.guidelines import models as guideline_models  # noqa: F401  (tables known to migrations)

    ratelimit.init_app(app)
    usage.init_app(app)
    register_job(app, "sync-guidelines", every=timedelta(minutes=10), run=cli.scheduled_sync)
    services.keep_search_settings(app)
    catalogue.keep_catalogue_status(app)
    app.register_blueprint(views.bp)
    add_nav_item(
        app,
        NavItem(
            "search.search_page",
            _l("Search"),
            visible=lambda user: user.clinic_id is not None,
            order=50,
            section=("search.pubmed_record",),
        ),
    )
    add_nav_item(
        app,
        NavItem(
            "search.reading_list",
            _l("Reading list"),
            visible=lambda user: user.clinic_id is not None,
            order=51,
            menu=USER_MENU,
        ),
    )
    # The usage statistics are linked from this page.
    add_nav_item(
        app,
        NavItem(
            "search.admin",
            _l("Search sources"),
            visible=_is_clinic_admin,
            order=720,
            menu=ADMIN_MENU,
            section=("search.admin_*",),
        ),
    )
