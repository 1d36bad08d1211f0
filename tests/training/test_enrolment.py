"""Training rule 3: enrolment never exceeds capacity; beyond it a FIFO waitlist; a freed seat promotes."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal.booking import calendar
from portal.core.db import utcnow
from portal.core.models import Notification
from portal.extensions import db
from portal.training import enrolling
from portal.training.models import Enrolment


def kinds_of(user):
    return db.session.scalars(
        select(Notification.kind).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


def test_enrolment_then_waitlist_then_promotion(api_as, schedule, make_user, clinic):
    training = schedule(capacity=1)
    first, second, third = (make_user(clinic=clinic) for _ in range(3))
    path = f"/api/v1/trainings/{training.id}/enrolment"

    enrolled = api_as(first).post(path)
    assert enrolled.status_code == 201
    assert enrolled.get_json() == {
        "session_id": training.id,
        "user_id": first.id,
        "status": "enrolled",
        "position": None,
    }
    assert [api_as(u).post(path).get_json()["position"] for u in (second, third)] == [1, 2]
    assert api_as(second).get(path).get_json()["status"] == "waitlisted"
    assert api_as(first).get(f"/api/v1/trainings/{training.id}").get_json()["seats_left"] == 0

    left = api_as(first).delete(path)
    assert left.status_code == 200 and left.get_json()["status"] == "cancelled"
    assert api_as(second).get(path).get_json() == {
        "session_id": training.id,
        "user_id": second.id,
        "status": "enrolled",
        "position": None,
    }
    assert api_as(third).get(path).get_json()["position"] == 1
    assert kinds_of(second) == ["training_waitlisted", "training_promoted"]
    assert api_as(first).get(path).status_code == 404


def test_promotion_is_mailed_to_the_doctor(smtp_server, deliver_mail, app, api_as, schedule, make_user, clinic):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    training = schedule(capacity=1)
    holder, waiting = make_user(clinic=clinic), make_user(clinic=clinic, full_name="Алексей Смирнов")
    path = f"/api/v1/trainings/{training.id}/enrolment"
    api_as(holder).post(path)
    api_as(waiting).post(path)
    deliver_mail()
    smtp_server.messages.clear()
    api_as(holder).delete(path)
    deliver_mail()
    assert [(m["To"], m["Subject"]) for m in smtp_server.messages] == [
        (waiting.email, "Место ваше: Анафилаксия у детей")
    ]


def test_asking_twice_changes_nothing(api_as, schedule, doctor):
    training = schedule(capacity=2)
    client = api_as(doctor)
    assert client.post(f"/api/v1/trainings/{training.id}/enrolment").status_code == 201
    again = client.post(f"/api/v1/trainings/{training.id}/enrolment")
    assert again.status_code == 200 and again.get_json()["status"] == "enrolled"
    assert client.get(f"/api/v1/trainings/{training.id}").get_json()["seats_left"] == 1


def test_leaving_and_coming_back_reuses_the_row_and_queues_at_the_end(api_as, schedule, make_user, clinic):
    training = schedule(capacity=1)
    holder, early, late = (make_user(clinic=clinic) for _ in range(3))
    path = f"/api/v1/trainings/{training.id}/enrolment"
    api_as(holder).post(path)
    api_as(early).post(path)
    api_as(early).delete(path)
    api_as(late).post(path)
    back = api_as(early).post(path)
    assert (back.status_code, back.get_json()["position"]) == (202, 2)
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.user_id == early.id)) == 1


def test_leaving_the_waitlist_moves_the_others_up(api_as, schedule, make_user, clinic):
    training = schedule(capacity=1)
    users = [make_user(clinic=clinic) for _ in range(4)]
    path = f"/api/v1/trainings/{training.id}/enrolment"
    for user in users:
        api_as(user).post(path)
    api_as(users[1]).delete(path)
    assert [api_as(u).get(path).get_json()["position"] for u in users[2:]] == [1, 2]
    assert api_as(users[0]).get(path).get_json()["status"] == "enrolled"


def test_only_doctors_of_the_clinic_enrol(api_as, schedule, make_user, trainer):
    training = schedule()
    stranger = make_user(role="doctor")
    assert api_as(stranger).post(f"/api/v1/trainings/{training.id}/enrolment").status_code == 404
    refused = api_as(trainer).post(f"/api/v1/trainings/{training.id}/enrolment")
    assert refused.status_code == 403
    assert api_as(stranger).get("/api/v1/trainings/999999").status_code == 404


def test_enrolment_closes_at_the_start(api_as, started_session, doctor, make_user, clinic):
    enrolled = make_user(clinic=clinic)
    training = started_session(enrolled=[enrolled])
    late = api_as(doctor).post(f"/api/v1/trainings/{training.id}/enrolment")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "enrolment_closed"
    leave = api_as(enrolled).delete(f"/api/v1/trainings/{training.id}/enrolment")
    assert leave.status_code == 409 and leave.get_json()["error"]["code"] == "enrolment_closed"


def test_cancelling_a_session_notifies_enrolled_and_waitlisted(api_as, schedule, make_user, clinic, trainer):
    training = schedule(capacity=1)
    holder, waiting, bystander = (make_user(clinic=clinic) for _ in range(3))
    path = f"/api/v1/trainings/{training.id}/enrolment"
    api_as(holder).post(path)
    api_as(waiting).post(path)
    assert api_as(holder).delete(f"/api/v1/trainings/{training.id}").status_code == 403
    response = api_as(trainer).delete(f"/api/v1/trainings/{training.id}", json={"reason": "Болезнь лектора"})
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert kinds_of(holder)[-1] == kinds_of(waiting)[-1] == "training_cancelled"
    assert kinds_of(bystander) == []
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == holder.id, Notification.kind == "training_cancelled")
    )
    assert "Болезнь лектора" in note.body
    refused = api_as(bystander).post(path)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "session_cancelled"


def test_the_database_refuses_more_seats_than_capacity(app, schedule):
    """The CHECK constraint is the last line of defence behind the row lock."""
    training = schedule(capacity=2)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE training_sessions SET seats_taken = 3 WHERE id = :id"), {"id": training.id})
        db.session.flush()
    db.session.rollback()


def test_listing_sessions_by_room_and_period(api_as, schedule, doctor, room):
    soon = schedule(start=_days(2))
    later = schedule(start=_days(20))
    client = api_as(doctor)
    default = client.get(f"/api/v1/trainings?room_id={room.id}").get_json()["items"]
    assert [s["id"] for s in default] == [soon.id]  # the room's 14-day horizon
    wide = client.get(
        "/api/v1/trainings",
        query_string={
            "room_id": room.id,
            "from": utcnow().isoformat(),
            "to": (utcnow() + timedelta(days=30)).isoformat(),
        },
    )
    assert [s["id"] for s in wide.get_json()["items"]] == [soon.id, later.id]
    assert client.get("/api/v1/trainings?from=yesterday").status_code == 400


def _days(days):
    from tests.training.conftest import local

    return local(days, 10)


def test_calendar_feed_gets_the_users_sessions(app, schedule, doctor):
    mine = schedule(start=_days(2))
    schedule(start=_days(3))
    enrolling.enrol(doctor, mine, now=utcnow())
    db.session.commit()
    feed = Calendar.from_ical(calendar.feed_ics(doctor, utcnow()))
    training_uids = [str(event["uid"]) for event in feed.walk("VEVENT") if str(event["uid"]).startswith("training-")]
    assert training_uids == [f"training-{mine.id}@{urlsplit(app.config['PORTAL_BASE_URL']).netloc}"]
