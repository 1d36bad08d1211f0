"""Training feature: courses, sessions, enrolment with a waitlist, attendance, learning record, certificates."""

from flask_babel import lazy_gettext as _l


def _is_doctor(user):
    return user.has_role("doctor")


def _runs_trainings(user):
    return bool(user.clinic_id) and user.has_role("trainer", "admin")


def init_app(app):
    from datetime import timedelta

    from flask import render_template
    from flask_babel import format_decimal
    from markupsafe import Markup

    from portal.booking.availability import register_sessions_source
    from portal.booking.cache import track_room_rows
    from portal.booking.calendar import register_calendar_source
    from portal.clinics.signals import closure_planned
    from portal.core.db import utcnow
    from portal.core.nav import USER_MENU, NavItem, add_dashboard_panel, add_nav_item
    from portal.core.notifications import register_kinds
    from portal.core.worker import register_job
    from portal.training import cli, models, queries, receivers, scheduling, views  # noqa: F401  (cli registers commands)

    app.register_blueprint(views.bp)
    closure_planned.connect(scheduling.sessions_under_closure)
    register_sessions_source(app, queries.sessions_in_room)
    register_calendar_source(app, queries.calendar_items)
    track_room_rows(models.TrainingSession)
    receivers.connect()
    app.add_template_filter(format_decimal, "hours")
    add_nav_item(
        app, NavItem("training.catalogue", _l("Trainings"), visible=lambda user: bool(user.clinic_id), order=30)
    )
    add_nav_item(
        app,
        NavItem(
            "training.manage",
            _l("Run trainings"),
            visible=_runs_trainings,
            order=35,
            section=("training.*_course", "training.*_session", "training.roster", "training.sign_in_sheet"),
        ),
    )
    add_nav_item(app, NavItem("training.record", _l("Learning record"), visible=_is_doctor, order=40, menu=USER_MENU))

    def upcoming_panel(user):
        enrolments = queries.upcoming_for_user(user, now=utcnow())
        if not enrolments:
            return None
        return Markup(render_template("training/_dashboard_panel.html", enrolments=enrolments))

    add_dashboard_panel(app, upcoming_panel, order=30)
    register_job(app, "send-training-reminders", every=timedelta(minutes=10), run=cli.send_reminders)
    register_job(app, "complete-past-sessions", every=timedelta(minutes=5), run=cli.complete_past_sessions)
    register_kinds(
        app,
        {
            "training_enrolled": _l("I am enrolled in a training"),
            "training_waitlisted": _l("I am on a training's waiting list"),
            "training_promoted": _l("I got a seat from the waiting list"),
            "training_reminder": _l("Reminder before a training starts"),
            "training_cancelled": _l("A training I signed up for is cancelled"),
            "training_changed": _l("A training I signed up for or run has changed"),
        },
    )
