"""Past sessions become completed by the worker; a completed session still takes its attendance."""

from datetime import timedelta

from sqlalchemy import select

from portal.core import worker
from portal.core.db import utcnow
from portal.core.time import iso
from portal.extensions import db
from portal.training import jobs
from portal.training.models import Enrolment, TrainingSession
from tests.conftest import csrf_token_from
from tests.training.conftest import MOSCOW


def test_sessions_that_have_ended_become_completed_once(app, started_session, schedule, doctor):
    ended = started_session(enrolled=[doctor], minutes_ago=120)  # 90 minutes long: over half an hour ago
    cancelled = started_session(minutes_ago=300)
    cancelled.status = "cancelled"
    running = started_session(minutes_ago=10)
    upcoming = schedule()
    ids = [training.id for training in (ended, cancelled, running, upcoming)]

    assert worker.run_due_jobs(app, now=utcnow())["complete-past-sessions"] is True
    db.session.expire_all()
    statuses = [db.session.get(TrainingSession, session_id).status for session_id in ids]
    assert statuses == ["completed", "cancelled", "scheduled", "scheduled"]
    again = app.test_cli_runner().invoke(args=["portal", "complete-past-sessions"])
    assert again.exit_code == 0 and "Completed 0 session(s)." in again.output
    assert jobs.complete_past_sessions(now=running.end_at) == 1


def test_a_completed_session_keeps_its_roster_open_and_stays_listed(
    client, auth, api_as, trainer, doctor, make_user, clinic, room, started_session
):
    training = started_session(enrolled=[doctor], minutes_ago=120)
    assert jobs.complete_past_sessions(now=utcnow()) == 1
    db.session.commit()

    auth.login(trainer)
    assert "завершено" in client.get("/trainings/manage").get_data(as_text=True)
    roster = client.get(f"/trainings/{training.id}/roster").get_data(as_text=True)
    assert "Сохранить посещаемость" in roster
    saved = client.post(
        f"/trainings/{training.id}/attendance",
        data={"csrf_token": csrf_token_from(roster), f"attendance-{doctor.id}": "attended"},
        follow_redirects=True,
    )
    assert "Посещаемость сохранена (изменено: 1)" in saved.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment.status)) == "attended"

    listed = (
        api_as(trainer)
        .get(
            "/api/v1/trainings",
            query_string={
                "room_id": room.id,
                "from": iso(training.start_at - timedelta(hours=1), MOSCOW),
                "to": iso(training.end_at, MOSCOW),
            },
        )
        .get_json()["items"]
    )
    assert [(item["id"], item["status"]) for item in listed] == [(training.id, "completed")]
    late = api_as(make_user(clinic=clinic)).post(f"/api/v1/trainings/{training.id}/enrolment")
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "enrolment_closed")
