"""Training rules 1 and 2: who schedules where, no overlaps in a room, whole-room sessions over bookings."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.booking.models import Booking
from portal.core.db import utcnow
from portal.core.models import Notification, OutboxMessage
from portal.core.time import iso
from portal.extensions import db
from portal.training import scheduling
from portal.training.models import Course, TrainingSession
from tests.training.conftest import MOSCOW, local


def session_body(room, start, minutes=90, **extra):
    return {
        "room_id": room.id,
        "start": iso(start, MOSCOW),
        "end": iso(start + timedelta(minutes=minutes), MOSCOW),
        "capacity": 5,
        "whole_room": False,
        **extra,
    }


def test_trainer_schedules_a_session_with_a_new_course(api_as, trainer, room):
    start = local(3, 10)
    response = api_as(trainer).post(
        "/api/v1/trainings",
        json=session_body(
            room, start, course={"title": "Бронхиальная астма у детей", "academic_hours": 2, "nmo_id": "НМО-77"}
        ),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] and body["room_id"] == room.id and body["status"] == "scheduled"
    assert body["course"]["title"] == "Бронхиальная астма у детей"
    assert body["course"]["academic_hours"] == 2 and body["course"]["nmo_id"] == "НМО-77"
    assert body["start"] == iso(start, MOSCOW) and body["start"].endswith("+03:00")
    assert (body["capacity"], body["seats_left"], body["whole_room"]) == (5, 5, False)


def test_existing_course_is_used_by_id(api_as, trainer, room, course):
    response = api_as(trainer).post("/api/v1/trainings", json=session_body(room, local(3, 10), course_id=course.id))
    assert response.status_code == 201
    assert response.get_json()["course"]["id"] == course.id


def test_room_of_another_clinic_is_not_found(api_as, trainer, make_room, course):
    other_room = make_room()
    response = api_as(trainer).post(
        "/api/v1/trainings", json=session_body(other_room, local(3, 10), course_id=course.id)
    )
    assert response.status_code == 404
    assert db.session.scalar(select(TrainingSession.id)) is None


def test_a_doctor_cannot_schedule(api_as, doctor, room, course):
    response = api_as(doctor).post("/api/v1/trainings", json=session_body(room, local(3, 10), course_id=course.id))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_seats_cannot_exceed_the_room(api_as, trainer, room, course):
    body = session_body(room, local(3, 10), course_id=course.id)
    body["capacity"] = room.capacity + 1
    response = api_as(trainer).post("/api/v1/trainings", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "capacity_exceeds_room"


def test_bad_input_is_a_400_and_writes_nothing(api_as, trainer, room, course):
    client = api_as(trainer)
    bad_bodies = [
        {**session_body(room, local(3, 10), course_id=course.id), "start": "tomorrow at ten"},
        {**session_body(room, local(3, 10), course_id=course.id), "start": "2030-01-01T10:00:00"},  # no offset
        session_body(room, local(3, 10)),  # neither course_id nor course
        session_body(room, local(3, 10), course={"title": "Новый курс", "academic_hours": 0.3}),
        session_body(room, local(3, 10), course={"title": "", "academic_hours": 1}),
        {**session_body(room, local(3, 10), course_id=course.id), "capacity": "five"},
    ]
    for body in bad_bodies:
        response = client.post("/api/v1/trainings", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"]
    assert db.session.scalar(select(TrainingSession.id)) is None
    assert db.session.scalars(select(Course.title)).all() == [course.title]


def test_time_rules(api_as, trainer, room, course):
    client = api_as(trainer)
    cases = [
        (local(-1, 10), 90, 400, "in_past"),
        (local(3, 19, 30), 90, 409, "outside_hours"),  # the room closes at 20:00
        (local(3, 10), -45, 400, "invalid_time"),
    ]
    for start, minutes, status, code in cases:
        response = client.post("/api/v1/trainings", json=session_body(room, start, minutes, course_id=course.id))
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)


def test_closure_refuses_a_session(api_as, trainer, room, course):
    from portal.clinics.models import Closure

    db.session.add(Closure(room_id=room.id, start_at=local(3, 0), end_at=local(4, 0), reason="Ремонт"))
    db.session.commit()
    response = api_as(trainer).post("/api/v1/trainings", json=session_body(room, local(3, 10), course_id=course.id))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "room_closed"


def test_sessions_of_one_room_never_overlap(api_as, trainer, schedule, room, course):
    schedule(start=local(3, 10), minutes=90)
    client = api_as(trainer)
    overlapping = client.post("/api/v1/trainings", json=session_body(room, local(3, 11), course_id=course.id))
    assert overlapping.status_code == 409
    assert overlapping.get_json()["error"]["code"] == "session_overlap"
    back_to_back = client.post("/api/v1/trainings", json=session_body(room, local(3, 11, 30), course_id=course.id))
    assert back_to_back.status_code == 201


def test_the_database_itself_refuses_overlapping_sessions(app, schedule, course, room):
    """The exclusion constraint (PostgreSQL) or trigger (SQLite) holds even without the service."""
    first = schedule(start=local(3, 10))
    db.session.add(
        TrainingSession(
            course_id=course.id,
            room_id=room.id,
            start_at=first.start_at + timedelta(minutes=30),
            end_at=first.end_at + timedelta(minutes=30),
            capacity=3,
        )
    )
    with pytest.raises(IntegrityError, match="ex_training_sessions_room_overlap"):
        db.session.commit()
    db.session.rollback()


def test_a_cancelled_session_frees_its_time(api_as, trainer, schedule, room, course):
    first = schedule(start=local(3, 10))
    scheduling.cancel_session(trainer, first, now=utcnow())
    db.session.commit()
    response = api_as(trainer).post("/api/v1/trainings", json=session_body(room, local(3, 10), course_id=course.id))
    assert response.status_code == 201


def _booking(doctor, workstation, start, minutes=60):
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstation.id,
        room_id=workstation.room_id,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        status="booked",
        created_by_id=doctor.id,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def test_whole_room_session_over_bookings_is_refused_with_the_conflicts(
    api_as, trainer, doctor, room, course, make_workstation
):
    workstation = make_workstation(room=room, label="ПК-3")
    booking = _booking(doctor, workstation, local(3, 10, 30))
    response = api_as(trainer).post(
        "/api/v1/trainings", json=session_body(room, local(3, 10), course_id=course.id, whole_room=True)
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "bookings_conflict"
    assert [(c["id"], c["workstation"], c["user"]) for c in error["conflicts"]] == [
        (booking.id, "ПК-3", "Мария Ивановна Петрова")
    ]
    db.session.refresh(booking)
    assert booking.status == "booked"
    # A session that only uses seats leaves the workstations bookable: no conflict.
    seats_only = api_as(trainer).post("/api/v1/trainings", json=session_body(room, local(3, 10), course_id=course.id))
    assert seats_only.status_code == 201


def test_only_an_admin_may_confirm_cancelling_bookings(api_as, trainer, doctor, room, course, make_workstation):
    _booking(doctor, make_workstation(room=room), local(3, 10, 30))
    response = api_as(trainer).post(
        "/api/v1/trainings",
        json=session_body(room, local(3, 10), course_id=course.id, whole_room=True, cancel_conflicting_bookings=True),
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "confirmation_requires_admin"


def test_admin_confirmation_cancels_the_bookings_and_tells_their_doctors(
    api_as, admin, doctor, room, course, make_workstation
):
    booking = _booking(doctor, make_workstation(room=room), local(3, 10, 30))
    response = api_as(admin).post(
        "/api/v1/trainings",
        json=session_body(room, local(3, 10), course_id=course.id, whole_room=True, cancel_conflicting_bookings=True),
    )
    assert response.status_code == 201
    db.session.refresh(booking)
    assert booking.status == "cancelled" and booking.cancelled_by_id == admin.id
    assert course.title in booking.cancel_reason
    notes = db.session.scalars(select(Notification).where(Notification.user_id == doctor.id)).all()
    assert [note.kind for note in notes] == ["booking_cancelled"]


def test_a_whole_room_session_over_30_bookings_answers_without_smtp_and_each_doctor_is_mailed_once(
    app, api_as, admin, make_user, clinic, room, course, make_workstation, smtp_server, deliver_mail
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    doctors = [make_user(clinic=clinic) for _ in range(10)]
    for doctor in doctors:
        workstation = make_workstation(room=room)
        for hour in (10, 11, 12):
            _booking(doctor, workstation, local(3, hour))
    response = api_as(admin).post(
        "/api/v1/trainings",
        json=session_body(
            room, local(3, 10), minutes=180, course_id=course.id, whole_room=True, cancel_conflicting_bookings=True
        ),
    )
    assert response.status_code == 201
    assert smtp_server.messages == []  # the request wrote its 30 mails to the outbox and sent none
    assert (
        db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending"))
        == 30
    )
    assert deliver_mail().sent == 30
    assert Counter(message["To"] for message in smtp_server.messages) == {doctor.email: 3 for doctor in doctors}


def test_weekly_series_reports_each_refused_date(app, trainer, schedule, room, course):
    schedule(start=local(15, 10, 30), minutes=45)  # in the way of the third date
    results = scheduling.schedule_series(
        trainer, course=course, room=room, first_start=local(1, 10), minutes=45, weeks=4, capacity=5, now=utcnow()
    )
    db.session.commit()
    assert [r.start for r in results] == [local(1 + 7 * week, 10) for week in range(4)]
    assert [r.error.code if r.error else "created" for r in results] == [
        "created",
        "created",
        "session_overlap",
        "created",
    ]
    created = [r.session for r in results if r.session is not None]
    assert all(s.end_at - s.start_at == timedelta(minutes=45) for s in created)
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 4


def test_every_training_endpoint_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/trainings"]) == {"get", "post"}
    assert set(paths["/trainings/{session_id}/enrolment"]) == {"get", "post", "delete"}
    assert set(paths["/trainings/{session_id}/attendance"]) == {"post"}
