"""Closures over booked time: refused with what they would cancel, cancelled with notices on confirmation,
the same rule on the admin page, in the API and on the command line; dates outside 2000–2100 refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.db import utcnow
from portal.core.models import Notification
from portal.core.time import iso
from portal.extensions import db
from portal.training import enrolling, scheduling
from portal.training.models import Course, Enrolment, TrainingSession
from tests.conftest import csrf_token_from
from tests.training.conftest import MOSCOW, local


@pytest.fixture
def room(make_room):
    return make_room(name="Кабинет роста", capacity=12)


@pytest.fixture
def admin(make_user, room):
    return make_user(role="admin", clinic=room.clinic, full_name="Анна Сергеевна Админова")


@pytest.fixture
def doctor(make_user, room):
    return make_user(role="doctor", clinic=room.clinic, full_name="Мария Ивановна Петрова")


@pytest.fixture
def trainer(make_user, room):
    return make_user(role="trainer", clinic=room.clinic, full_name="Игорь Павлович Лекторов")


@pytest.fixture
def booking(doctor, room, make_workstation):
    """Мария's booking of ПК-1 in three days, 10:00–11:00."""
    workstation = make_workstation(room=room, label="ПК-1")
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstation.id,
        room_id=room.id,
        start_at=local(3, 10),
        end_at=local(3, 11),
        status="booked",
        created_by_id=doctor.id,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


@pytest.fixture
def session_with_a_doctor(app, trainer, room, make_user):
    """A seats-only session in three days, 14:00–15:30, with one doctor enrolled."""
    course = Course(
        clinic_id=room.clinic_id, title="Анафилаксия у детей", trainer_id=trainer.id, academic_hours=Decimal("2")
    )
    db.session.add(course)
    db.session.flush()
    training = scheduling.schedule_session(
        trainer, course=course, room=room, start=local(3, 14), end=local(3, 15, 30), capacity=5, now=utcnow()
    )
    participant = make_user(role="doctor", clinic=room.clinic, full_name="Олег Петрович Слушатель")
    enrolling.enrol(participant, training, now=utcnow())
    db.session.commit()
    return training, participant


def closure_body(first_day=3, last_day=4, **extra):
    return {
        "start": iso(local(first_day, 0), MOSCOW),
        "end": iso(local(last_day, 0), MOSCOW),
        "reason": "Ремонт вентиляции",
        **extra,
    }


def kinds_of_notes(user):
    return db.session.scalars(
        select(Notification.kind).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


def test_a_closure_over_a_booking_and_a_session_is_refused_with_what_it_would_cancel(
    api_as, admin, booking, session_with_a_doctor
):
    training, _participant = session_with_a_doctor
    response = api_as(admin).post(f"/api/v1/rooms/{booking.room_id}/closures", json=closure_body())
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "bookings_affected" and error["message"]
    assert [(item["kind"], item["id"]) for item in error["affected"]] == [
        ("booking", booking.id),
        ("training", training.id),
    ]
    assert error["affected"][0]["user"] == "Мария Ивановна Петрова"
    assert error["affected"][0]["workstation"] == "ПК-1"
    assert (error["affected"][1]["title"], error["affected"][1]["enrolled"]) == ("Анафилаксия у детей", 1)
    # Nothing changed: no closure, the booking and the session stand.
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
    assert (booking.status, training.status) == ("booked", "scheduled")


def test_confirmed_the_closure_cancels_them_and_tells_each_doctor_and_trainer(
    api_as, admin, doctor, trainer, booking, session_with_a_doctor
):
    training, participant = session_with_a_doctor
    response = api_as(admin).post(f"/api/v1/rooms/{booking.room_id}/closures", json=closure_body(cancel_affected=True))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] and body["reason"] == "Ремонт вентиляции"
    assert [(item["kind"], item["id"]) for item in body["cancelled"]] == [
        ("booking", booking.id),
        ("training", training.id),
    ]
    db.session.expire_all()
    assert booking.status == "cancelled" and booking.cancelled_by_id == admin.id
    assert booking.cancel_reason == "Кабинет закрыт: Ремонт вентиляции"
    assert training.status == "cancelled" and training.seats_taken == 0
    assert db.session.scalar(select(Enrolment.status).where(Enrolment.user_id == participant.id)) == "cancelled"
    assert kinds_of_notes(doctor) == ["booking_cancelled"]
    assert kinds_of_notes(participant)[-1] == "training_cancelled"
    assert kinds_of_notes(trainer) == ["training_cancelled"]
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == participant.id, Notification.kind == "training_cancelled")
    )
    assert "Ремонт вентиляции" in note.body


def test_a_booking_made_after_the_list_was_shown_is_cancelled_too(api_as, admin, booking, make_user, make_workstation):
    """The confirmation looks again: a booking made between the refusal and the confirmation does not
    survive inside the closure."""
    client = api_as(admin)
    first = client.post(f"/api/v1/rooms/{booking.room_id}/closures", json=closure_body())
    assert [item["id"] for item in first.get_json()["error"]["affected"]] == [booking.id]
    latecomer = make_user(role="doctor", clinic=booking.room.clinic)
    made_meanwhile = api_as(latecomer).post(
        "/api/v1/bookings",
        json={
            "workstation_id": make_workstation(room=booking.room, label="ПК-2").id,
            "start": iso(local(3, 12), MOSCOW),
            "end": iso(local(3, 13), MOSCOW),
        },
    )
    assert made_meanwhile.status_code == 201, made_meanwhile.get_json()
    confirmed = client.post(f"/api/v1/rooms/{booking.room_id}/closures", json=closure_body(cancel_affected=True))
    assert confirmed.status_code == 201
    assert sorted(item["id"] for item in confirmed.get_json()["cancelled"]) == sorted(
        [booking.id, made_meanwhile.get_json()["id"]]
    )
    assert db.session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "booked")) == 0


def test_what_has_ended_or_lies_outside_is_not_affected(api_as, admin, booking, room):
    booking.status = "cancelled"
    db.session.commit()
    response = api_as(admin).post(f"/api/v1/rooms/{room.id}/closures", json=closure_body())
    assert response.status_code == 201 and response.get_json()["cancelled"] == []
    # Back to back with the closure is not inside it.
    later = api_as(admin).post(
        f"/api/v1/rooms/{room.id}/closures",
        json={"start": iso(local(5, 0), MOSCOW), "end": iso(local(5, 10), MOSCOW), "reason": "Уборка"},
    )
    assert later.status_code == 201


@pytest.mark.parametrize(
    "field, value",
    [
        ("start", "1900-03-02T09:00:00+03:00"),
        ("end", "2101-03-02T09:00:00+03:00"),
        ("start", "0001-01-01T00:30:00+03:00"),  # no UTC time at all: still a 400, never a 500
    ],
)
def test_dates_outside_2000_to_2100_are_refused_with_a_field_message(api_as, admin, room, field, value):
    body = closure_body()
    body[field] = value
    if field == "end":
        body["start"] = "2100-12-31T09:00:00+03:00"
    response = api_as(admin).post(f"/api/v1/rooms/{room.id}/closures", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and error["code"] in ("invalid_start", "invalid_end", "invalid_time")
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_the_admin_page_shows_the_affected_and_cancels_them_on_confirmation(
    auth, client, admin, doctor, booking, session_with_a_doctor
):
    training, _participant = session_with_a_doctor
    room_id = booking.room_id
    auth.login(admin)
    page = client.get(f"/admin/rooms/{room_id}/schedule").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token_from(page),
        "reason": "Ремонт вентиляции",
        "start": iso(local(3, 0), MOSCOW)[:16],
        "end": iso(local(4, 0), MOSCOW)[:16],
    }

    refused = client.post(f"/admin/rooms/{room_id}/closures", data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "На время закрытия приходятся действующие брони или занятия" in html
    assert 'id="closure-affected"' in html
    assert "бронь ПК-1" in html and "Мария Ивановна Петрова" in html
    assert "занятие «Анафилаксия у детей», записано: 1" in html
    assert 'name="cancel_affected" value="y"' in html and "Отменить их и добавить закрытие" in html
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0

    confirmed = client.post(
        f"/admin/rooms/{room_id}/closures", data={**form, "cancel_affected": "y"}, follow_redirects=True
    )
    assert confirmed.status_code == 200
    html = confirmed.get_data(as_text=True)
    assert "Закрытие добавлено. Отменено броней: 1, занятий: 1" in html
    assert "Ремонт вентиляции" in html
    db.session.expire_all()
    assert (booking.status, training.status) == ("cancelled", "cancelled")
    assert kinds_of_notes(doctor) == ["booking_cancelled"]


def test_the_admin_page_refuses_the_year_1900_next_to_the_field(auth, client, admin, room):
    auth.login(admin)
    page = client.get(f"/admin/rooms/{room.id}/schedule").get_data(as_text=True)
    response = client.post(
        f"/admin/rooms/{room.id}/closures",
        data={
            "csrf_token": csrf_token_from(page),
            "start": "1900-03-02T09:00",
            "end": "1900-03-02T18:00",
            "reason": "Опечатка в годе",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Введите дату и время с 2000 по 2100 год." in html
    assert "Закрытие добавлено" not in html
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def _holiday_booking(doctor, room, make_workstation):
    """A booking on 1 May of next year (a federal holiday), written directly: it lies beyond the horizon."""
    from datetime import date, datetime, time

    from portal.core.time import local_to_utc

    may_day = date(utcnow().year + 1, 5, 1)
    start = local_to_utc(datetime.combine(may_day, time(10)), MOSCOW)
    booking = Booking(
        user_id=doctor.id,
        workstation_id=make_workstation(room=room).id,
        room_id=room.id,
        start_at=start,
        end_at=start + timedelta(hours=1),
        status="booked",
        created_by_id=doctor.id,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def test_public_holidays_over_a_booking_are_refused_then_confirmed(api_as, admin, doctor, room, make_workstation):
    booking = _holiday_booking(doctor, room, make_workstation)
    path = f"/api/v1/rooms/{room.id}/closures/public-holidays"
    refused = api_as(admin).post(path, json={"year": utcnow().year + 1})
    assert refused.status_code == 409
    assert [item["id"] for item in refused.get_json()["error"]["affected"]] == [booking.id]
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
    confirmed = api_as(admin).post(path, json={"year": utcnow().year + 1, "cancel_affected": True})
    assert confirmed.status_code == 201
    body = confirmed.get_json()
    assert body["items"] and [item["id"] for item in body["cancelled"]] == [booking.id]
    db.session.expire_all()
    assert booking.status == "cancelled"


def test_the_admin_page_lists_the_bookings_on_the_holidays_of_every_room(
    auth, client, admin, doctor, room, make_room, make_workstation
):
    booking = _holiday_booking(doctor, make_room(clinic=room.clinic, name="Второй кабинет"), make_workstation)
    auth.login(admin)
    page = client.get(f"/admin/rooms/{room.id}/schedule").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "year": str(utcnow().year + 1), "all_rooms": "y"}
    refused = client.post(f"/admin/rooms/{room.id}/holidays", data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="holidays-affected"' in html and "Мария Ивановна Петрова" in html
    assert "Отменить их и добавить праздники" in html
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
    done = client.post(f"/admin/rooms/{room.id}/holidays", data={**form, "cancel_affected": "y"}, follow_redirects=True)
    assert "Отменено броней: 1, занятий: 0" in done.get_data(as_text=True)
    db.session.expire_all()
    assert booking.status == "cancelled"
    assert db.session.scalar(select(func.count(func.distinct(Closure.room_id)))) == 2


def test_the_command_line_lists_the_bookings_in_the_way_unless_told_to_cancel(app, doctor, room, make_workstation):
    booking = _holiday_booking(doctor, room, make_workstation)
    runner = app.test_cli_runner()
    args = ["portal", "add-holidays", "--clinic", room.clinic.short_name, "--year", str(utcnow().year + 1)]
    db.session.commit()
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0
    assert f"booking {booking.id}:" in refused.output and "--cancel-affected" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
    done = runner.invoke(args=[*args, "--cancel-affected"])
    assert done.exit_code == 0, done.output
    assert "cancelled 1 booking(s) and session(s)" in done.output
    db.session.expire_all()
    assert booking.status == "cancelled"


def test_a_session_cannot_be_scheduled_into_a_closure_once_it_stands(api_as, admin, trainer, room):
    """Sessions take the room's lock too, so the closure and a new session see each other."""
    assert api_as(admin).post(f"/api/v1/rooms/{room.id}/closures", json=closure_body()).status_code == 201
    response = api_as(trainer).post(
        "/api/v1/trainings",
        json={
            "room_id": room.id,
            "course": {"title": "Курс", "academic_hours": 1},
            "start": iso(local(3, 10), MOSCOW),
            "end": iso(local(3, 10, 45), MOSCOW),
            "capacity": 3,
        },
    )
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "room_closed")
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0


@pytest.mark.slow
def test_bookings_racing_a_closure_never_stay_inside_it(app, admin, room, make_workstation):
    """Eight doctors book and an administrator closes the room at the same moment: each booking is either
    refused (the closure came first) or cancelled by it (the booking came first), never left standing."""
    from portal.auth.models import ApiToken
    from tests.booking.test_races import quick_doctors, race

    workstations = [make_workstation(room=room) for _ in range(8)]
    _doctors, tokens = quick_doctors(room.clinic, 8)
    admin_token = ApiToken.issue(admin, "race")[1]
    bookings = [
        (
            "/api/v1/bookings",
            {"workstation_id": workstation.id, "start": iso(local(3, 10), MOSCOW), "end": iso(local(3, 11), MOSCOW)},
            token,
        )
        for workstation, token in zip(workstations, tokens, strict=True)
    ]
    closure = (f"/api/v1/rooms/{room.id}/closures", closure_body(cancel_affected=True), admin_token)
    results = race(app, [*bookings[:4], closure, *bookings[4:]])
    assert results[4] == (201, None)
    assert {result for index, result in enumerate(results) if index != 4} <= {(201, None), (409, "closed")}
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(Booking).where(Booking.status.in_(("booked", "checked_in"))))
        == 0
    )
