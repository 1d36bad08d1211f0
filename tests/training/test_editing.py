"""Trainers edit and cancel courses and sessions (training rules 1–4): checked like scheduling, doctors told
of what affects them, seats never silently below the doctors enrolled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.db import utcnow
from portal.core.models import Notification
from portal.core.time import iso
from portal.extensions import db
from portal.training import attendance, enrolling
from portal.training.models import Certificate, Enrolment, TrainingSession
from tests.training.conftest import MOSCOW, local


def notes(user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


@pytest.fixture
def doctors(make_user, clinic):
    return [make_user(role="doctor", clinic=clinic, full_name=f"Врач {n}") for n in range(1, 6)]


def enrol_in_order(training, people):
    """Enrol one by one, a minute apart, so the order in which seats were given is plain."""
    start = utcnow() - timedelta(hours=1)
    for minute, person in enumerate(people):
        enrolling.enrol(person, training, now=start + timedelta(minutes=minute))
    db.session.commit()


def statuses(training):
    db.session.expire_all()
    rows = db.session.scalars(select(Enrolment).where(Enrolment.session_id == training.id)).all()
    return {row.user_id: (row.status, enrolling.waitlist_position(row)) for row in rows}


# --- courses ----------------------------------------------------------------------------------


def test_trainer_edits_a_course_and_signed_up_doctors_are_told(api_as, trainer, schedule, course, doctors):
    training = schedule(start=local(3, 10), capacity=1)
    enrol_in_order(training, doctors[:2])  # one enrolled, one waitlisted
    response = api_as(trainer).patch(
        f"/api/v1/courses/{course.id}",
        json={"title": "Анафилаксия и шок у детей", "academic_hours": 1.5, "nmo_id": None},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["title"], body["academic_hours"], body["nmo_id"], body["nmo"]) == (
        "Анафилаксия и шок у детей",
        1.5,
        None,
        False,
    )
    for doctor in doctors[:2]:
        (note,) = notes(doctor, "training_changed")
        assert note.subject == "Занятие изменено: Анафилаксия и шок у детей"
        assert "без баллов НМО" in note.body and "Прежнее название: «Анафилаксия у детей»" in note.body
    assert notes(doctors[2]) == []


def test_a_description_alone_is_no_news(api_as, trainer, schedule, course, doctors):
    enrol_in_order(schedule(start=local(3, 10)), doctors[:1])
    response = api_as(trainer).patch(f"/api/v1/courses/{course.id}", json={"description": "Новое описание"})
    assert response.status_code == 200 and response.get_json()["description"] == "Новое описание"
    assert notes(doctors[0], "training_changed") == []


def test_editing_hours_leaves_issued_certificates_and_the_record_as_they_were(
    api_as, trainer, doctor, course, started_session
):
    training = started_session(enrolled=[doctor])
    attendance.mark_attendance(trainer, training, doctor.id, True, now=utcnow())
    db.session.commit()
    assert api_as(trainer).patch(f"/api/v1/courses/{course.id}", json={"academic_hours": 4}).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Certificate.academic_hours)) == Decimal("2")
    record = attendance.learning_record(
        doctor, first_day=utcnow().date() - timedelta(days=1), last_day=utcnow().date() + timedelta(days=1)
    )
    assert record.total_hours == Decimal("2")


@pytest.mark.parametrize(
    "body, code",
    [
        ({"academic_hours": 0.3}, "invalid_academic_hours"),
        ({"academic_hours": "two"}, "invalid_field"),  # a type error, as everywhere in the API
        ({"title": ""}, "invalid_title"),
        ({"title": 5}, "invalid_field"),
        ({"nmo_id": "Н" * 61}, "invalid_nmo_id"),
    ],
)
def test_bad_course_edits_are_400_and_change_nothing(api_as, trainer, course, body, code):
    response = api_as(trainer).patch(f"/api/v1/courses/{course.id}", json=body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, code)
    db.session.expire_all()
    assert (course.title, course.academic_hours) == ("Анафилаксия у детей", Decimal("2"))


def test_only_the_clinics_trainers_edit_its_courses(api_as, doctor, course, make_user):
    assert api_as(doctor).patch(f"/api/v1/courses/{course.id}", json={"title": "Х"}).status_code == 403
    stranger = make_user(role="trainer")  # another clinic
    assert api_as(stranger).patch(f"/api/v1/courses/{course.id}", json={"title": "Х"}).status_code == 404
    assert api_as(stranger).get(f"/api/v1/courses/{course.id}").status_code == 404


def test_cancelling_a_course_cancels_its_upcoming_sessions_and_no_new_ones_follow(
    api_as, trainer, schedule, course, room, doctors
):
    first, second = schedule(start=local(3, 10)), schedule(start=local(4, 10))
    enrol_in_order(first, doctors[:1])
    client = api_as(trainer)
    response = client.delete(f"/api/v1/courses/{course.id}", json={"reason": "Лектор заболел"})
    assert response.status_code == 200
    assert sorted(response.get_json()["cancelled_sessions"]) == sorted([first.id, second.id])
    assert response.get_json()["cancelled_at"]
    db.session.expire_all()
    assert (first.status, second.status) == ("cancelled", "cancelled")
    (note,) = notes(doctors[0], "training_cancelled")
    assert "Лектор заболел" in note.body
    again = client.post(
        "/api/v1/trainings",
        json={
            "room_id": room.id,
            "course_id": course.id,
            "start": iso(local(5, 10), MOSCOW),
            "end": iso(local(5, 11, 30), MOSCOW),
            "capacity": 3,
        },
    )
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "course_cancelled")
    assert client.delete(f"/api/v1/courses/{course.id}").status_code == 409


# --- sessions: time and room ------------------------------------------------------------------


def test_moving_a_session_tells_the_enrolled_and_the_waitlisted(api_as, trainer, schedule, doctors, room, make_room):
    training = schedule(start=local(3, 10), capacity=1)
    enrol_in_order(training, doctors[:2])
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == doctors[0].id))
    enrolment.reminded_at = utcnow()
    db.session.commit()
    other_room = make_room(clinic=room.clinic, name="Актовый зал", capacity=30)
    response = api_as(trainer).patch(
        f"/api/v1/trainings/{training.id}",
        json={"start": iso(local(4, 12), MOSCOW), "end": iso(local(4, 13, 30), MOSCOW), "room_id": other_room.id},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["start"], body["end"], body["room_id"]) == (
        iso(local(4, 12), MOSCOW),
        iso(local(4, 13, 30), MOSCOW),
        other_room.id,
    )
    for doctor in doctors[:2]:
        (note,) = notes(doctor, "training_changed")
        assert "Актовый зал" in note.body and "13:30" in note.body
    db.session.expire_all()
    assert enrolment.reminded_at is None  # reminded again, for the new time


@pytest.mark.parametrize(
    "start, minutes, status, code",
    [((3, 19, 30), 90, 409, "outside_hours"), ((-1, 10), 90, 400, "in_past"), ((3, 12), 9 * 60, 400, "too_long")],
)
def test_a_new_time_is_checked_like_a_new_session(api_as, trainer, schedule, start, minutes, status, code):
    training = schedule(start=local(3, 10))
    begin = local(*start)
    response = api_as(trainer).patch(
        f"/api/v1/trainings/{training.id}",
        json={"start": iso(begin, MOSCOW), "end": iso(begin + timedelta(minutes=minutes), MOSCOW)},
    )
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    db.session.expire_all()
    assert training.start_at == local(3, 10)


def test_a_session_cannot_move_into_a_closure_or_onto_another_session(api_as, trainer, schedule, room):
    training = schedule(start=local(3, 10))
    schedule(start=local(5, 10))
    db.session.add(Closure(room_id=room.id, start_at=local(4, 0), end_at=local(5, 0), reason="Ремонт"))
    db.session.commit()
    client = api_as(trainer)
    closed = client.patch(
        f"/api/v1/trainings/{training.id}",
        json={"start": iso(local(4, 10), MOSCOW), "end": iso(local(4, 11, 30), MOSCOW)},
    )
    assert (closed.status_code, closed.get_json()["error"]["code"]) == (409, "room_closed")
    taken = client.patch(
        f"/api/v1/trainings/{training.id}", json={"start": iso(local(5, 11), MOSCOW), "end": iso(local(5, 12), MOSCOW)}
    )
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "session_overlap")
    # Moving within its own time is no overlap with itself.
    later = client.patch(f"/api/v1/trainings/{training.id}", json={"end": iso(local(3, 12), MOSCOW)})
    assert later.status_code == 200


def test_a_room_of_another_clinic_or_too_small_is_refused(api_as, trainer, schedule, room, make_room):
    training = schedule(start=local(3, 10), capacity=5)
    client = api_as(trainer)
    assert client.patch(f"/api/v1/trainings/{training.id}", json={"room_id": make_room().id}).status_code == 404
    small = make_room(clinic=room.clinic, name="Малый", capacity=3)
    response = client.patch(f"/api/v1/trainings/{training.id}", json={"room_id": small.id})
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "capacity_exceeds_room")
    assert (
        client.patch(f"/api/v1/trainings/{training.id}", json={"room_id": small.id, "capacity": 3}).status_code == 200
    )


def test_moving_a_whole_room_session_rechecks_the_bookings(
    api_as, trainer, admin, doctor, schedule, room, make_workstation
):
    training = schedule(start=local(3, 10), whole_room=True)
    booking = Booking(
        user_id=doctor.id,
        workstation_id=make_workstation(room=room).id,
        room_id=room.id,
        start_at=local(4, 10, 30),
        end_at=local(4, 11, 30),
        status="booked",
        created_by_id=doctor.id,
    )
    db.session.add(booking)
    db.session.commit()
    move = {"start": iso(local(4, 10), MOSCOW), "end": iso(local(4, 11, 30), MOSCOW)}
    refused = api_as(trainer).patch(f"/api/v1/trainings/{training.id}", json=move)
    assert refused.status_code == 409
    assert [c["id"] for c in refused.get_json()["error"]["conflicts"]] == [booking.id]
    by_trainer = api_as(trainer).patch(
        f"/api/v1/trainings/{training.id}", json={**move, "cancel_conflicting_bookings": True}
    )
    assert by_trainer.get_json()["error"]["code"] == "confirmation_requires_admin"
    confirmed = api_as(admin).patch(
        f"/api/v1/trainings/{training.id}", json={**move, "cancel_conflicting_bookings": True}
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["cancelled_bookings"] == [booking.id]
    db.session.expire_all()
    assert booking.status == "cancelled" and "Анафилаксия у детей" in booking.cancel_reason
    assert [n.kind for n in notes(doctor)] == ["booking_cancelled"]


def test_a_started_or_cancelled_session_is_not_changed(api_as, trainer, started_session, schedule):
    started = started_session()
    response = api_as(trainer).patch(f"/api/v1/trainings/{started.id}", json={"capacity": 6})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "session_started")
    cancelled = schedule(start=local(3, 10))
    api_as(trainer).delete(f"/api/v1/trainings/{cancelled.id}")
    response = api_as(trainer).patch(f"/api/v1/trainings/{cancelled.id}", json={"capacity": 6})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "session_cancelled")


def test_doctors_cannot_change_sessions(api_as, doctor, schedule):
    training = schedule(start=local(3, 10))
    assert api_as(doctor).patch(f"/api/v1/trainings/{training.id}", json={"capacity": 6}).status_code == 403


# --- sessions: seats --------------------------------------------------------------------------


def test_seats_below_the_enrolled_are_refused_without_an_explicit_choice(api_as, trainer, schedule, doctors):
    training = schedule(start=local(3, 10), capacity=4)
    enrol_in_order(training, doctors[:4])
    before = statuses(training)
    response = api_as(trainer).patch(f"/api/v1/trainings/{training.id}", json={"capacity": 2})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["enrolled"], error["field"]) == ("capacity_below_enrolled", 4, "capacity")
    assert statuses(training) == before
    db.session.expire_all()
    assert (training.capacity, training.seats_taken) == (4, 4)


def test_the_doctors_seated_last_go_back_to_the_head_of_the_waitlist_in_order(api_as, trainer, schedule, doctors):
    training = schedule(start=local(3, 10), capacity=3)
    enrol_in_order(training, doctors[:4])  # 1, 2, 3 seated; 4 waiting
    response = api_as(trainer).patch(f"/api/v1/trainings/{training.id}", json={"capacity": 1, "move_to_waitlist": True})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["capacity"], body["seats_taken"]) == (1, 1)
    assert body["moved_to_waitlist"] == [doctors[2].id, doctors[1].id]  # the last seated first
    one, two, three, four = (doctor.id for doctor in doctors[:4])
    assert statuses(training) == {
        one: ("enrolled", None),
        two: ("waitlisted", 1),
        three: ("waitlisted", 2),
        four: ("waitlisted", 3),
    }
    (note,) = notes(doctors[1], "training_waitlisted")[-1:]
    assert note.subject == "Снова в листе ожидания: Анафилаксия у детей" and "ожидания: 1" in note.body
    assert "ожидания: 2" in notes(doctors[2], "training_waitlisted")[-1].body
    # More seats again: they get them back first, in the same order, and are told.
    more = api_as(trainer).patch(f"/api/v1/trainings/{training.id}", json={"capacity": 2})
    assert more.get_json()["promoted"] == [two]
    assert statuses(training)[two] == ("enrolled", None)
    assert notes(doctors[1])[-1].kind == "training_promoted"


def test_enrolment_after_the_seats_changed_joins_the_end(api_as, trainer, schedule, doctors):
    training = schedule(start=local(3, 10), capacity=2)
    enrol_in_order(training, doctors[:2])
    api_as(trainer).patch(f"/api/v1/trainings/{training.id}", json={"capacity": 1, "move_to_waitlist": True})
    response = api_as(doctors[2]).post(f"/api/v1/trainings/{training.id}/enrolment")
    assert response.status_code == 202 and response.get_json()["position"] == 2


# --- sessions: trainer ------------------------------------------------------------------------


def test_a_colleague_takes_over_a_session(api_as, admin, trainer, schedule, doctors, make_user, clinic):
    training = schedule(start=local(3, 10))
    enrol_in_order(training, doctors[:1])
    colleague = make_user(role="trainer", clinic=clinic, full_name="Ольга Викторовна Сменщица")
    response = api_as(admin).patch(f"/api/v1/trainings/{training.id}", json={"trainer_id": colleague.id})
    assert response.status_code == 200
    assert response.get_json()["trainer"] == {"id": colleague.id, "name": "Ольга Викторовна Сменщица"}
    assert "Преподаватель: Ольга Викторовна Сменщица." in notes(doctors[0], "training_changed")[0].body
    (handed,) = notes(colleague)
    assert handed.subject == "Вы ведёте занятие: Анафилаксия у детей"


def test_the_trainer_must_be_a_trainer_of_the_clinic(api_as, trainer, schedule, doctor, make_user):
    training = schedule(start=local(3, 10))
    client = api_as(trainer)
    as_doctor = client.patch(f"/api/v1/trainings/{training.id}", json={"trainer_id": doctor.id})
    assert (as_doctor.status_code, as_doctor.get_json()["error"]["code"]) == (400, "invalid_trainer")
    elsewhere = make_user(role="trainer")
    assert client.patch(f"/api/v1/trainings/{training.id}", json={"trainer_id": elsewhere.id}).status_code == 404
    db.session.expire_all()
    assert training.trainer_id == trainer.id


def test_the_certificate_names_the_trainer_who_ran_the_session(trainer, doctor, started_session, make_user, clinic):
    training = started_session(enrolled=[doctor])
    training.trainer = make_user(role="trainer", clinic=clinic, full_name="Ольга Викторовна Сменщица")
    attendance.mark_attendance(trainer, training, doctor.id, True, now=utcnow())
    db.session.commit()
    assert db.session.scalar(select(Certificate.trainer_name)) == "Ольга Викторовна Сменщица"


def _resolved(document, schema):
    """The schema a `$ref` points to (`#/components/schemas/…`), or the schema itself."""
    reference = schema.get("$ref")
    if reference is None:
        return schema
    node = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_new_endpoint_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/trainings/{session_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/courses/{course_id}"]) == {"get", "patch", "delete"}
    closures = paths["/rooms/{room_id}/closures"]["post"]
    body = closures["requestBody"]["content"]["application/json"]["schema"]
    assert "cancel_affected" in _resolved(document, body)["properties"]
    assert "409" in closures["responses"]


def test_a_session_in_the_api_carries_its_trainer_and_hours(api_as, trainer, schedule):
    training = schedule(start=local(3, 10), minutes=45)
    body = api_as(trainer).get(f"/api/v1/trainings/{training.id}").get_json()
    assert body["trainer"] == {"id": trainer.id, "name": "Игорь Павлович Лекторов"}
    assert (body["academic_hours"], body["course"]["academic_hours"]) == (1, 2)
    assert db.session.get(TrainingSession, training.id).trainer_id == trainer.id
