"""The reminder job: each enrolled doctor is reminded once of a session starting within the window."""

from sqlalchemy import select

from portal.core.db import utcnow
from portal.core.models import Notification
from portal.extensions import db
from portal.training import enrolling
from tests.training.conftest import local


def test_reminders_go_once_to_enrolled_doctors_only(app, schedule, make_user, clinic):
    soon = schedule(start=local(1, 10), capacity=1)
    enrolled, waiting = make_user(clinic=clinic), make_user(clinic=clinic)
    enrolling.enrol(enrolled, soon, now=utcnow())
    enrolling.enrol(waiting, soon, now=utcnow())
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["portal", "send-training-reminders", "--hours", "48"])
    assert first.exit_code == 0 and "Reminders sent: 1" in first.output
    second = runner.invoke(args=["portal", "send-training-reminders", "--hours", "48"])
    assert "Reminders sent: 0" in second.output
    reminded = db.session.scalars(select(Notification.user_id).where(Notification.kind == "training_reminder")).all()
    assert reminded == [enrolled.id]
