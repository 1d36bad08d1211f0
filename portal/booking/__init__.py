"""Workstation booking: availability, booking, check-in, no-shows, calendar feeds, the door display."""

from flask_babel import lazy_gettext as _l


def init_app(app):
    from datetime import timedelta

    from portal.booking import cache, changes, cli, closures, models, notices, receivers, views  # noqa: F401  (cli registers commands; models for migrations)
    from portal.clinics.signals import closure_planned, workstation_left_service
    from portal.core.nav import NavItem, add_dashboard_panel, add_nav_item
    from portal.core.notifications import register_kinds
    from portal.core.worker import register_job

    app.register_blueprint(views.bp)
    cache.init_app(app)
    workstation_left_service.connect(changes.relocate_or_cancel_future_bookings)
    receivers.connect()
    closure_planned.connect(closures.bookings_under_closure)
    register_kinds(app, notices.KINDS)
    # The check-in grace ends on the minute; a reminder goes 55–60 minutes ahead.
    register_job(app, "release-no-shows", every=timedelta(minutes=1), run=cli.release_no_shows)
    register_job(app, "send-reminders", every=timedelta(minutes=5), run=cli.send_reminders)
    add_nav_item(
        app,
        NavItem(
            "booking.rooms",
            _l("Workstation booking"),
            visible=lambda user: user.clinic_id is not None,
            order=10,
            section=("booking.schedule", "booking.book", "booking.book_now"),
        ),
    )
    add_nav_item(
        app,
        NavItem(
            "booking.my_bookings",
            _l("My bookings"),
            visible=lambda user: user.has_role("doctor", "trainer"),
            order=11,
            section=("booking.booking_detail", "booking.calendar_page"),
        ),
    )
    add_dashboard_panel(app, views.dashboard_panel, order=10)
