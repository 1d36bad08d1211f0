"""The editing pages as trainers use them (Russian by default): a course, a session, cancelling a course."""

from decimal import Decimal

from sqlalchemy import select

from portal.core.db import utcnow
from portal.core.time import to_local
from portal.extensions import db
from portal.training import enrolling
from portal.training.models import Course, Enrolment
from tests.conftest import csrf_token_from
from tests.training.conftest import MOSCOW, local


def test_trainer_edits_a_course_on_its_page(client, auth, trainer, course):
    auth.login(trainer)
    manage = client.get("/trainings/manage").get_data(as_text=True)
    assert f"/trainings/courses/{course.id}/edit" in manage
    page = client.get(f"/trainings/courses/{course.id}/edit").get_data(as_text=True)
    assert "Изменить курс" in page and 'value="Анафилаксия у детей"' in page and 'value="2.0"' in page
    bad = client.post(
        f"/trainings/courses/{course.id}/edit",
        data={"csrf_token": csrf_token_from(page), "title": "Анафилаксия", "academic_hours": "0.3", "nmo_id": ""},
    )
    assert bad.status_code == 400
    assert "Академические часы — число от 0,5 до 99,5 с шагом 0,5." in bad.get_data(as_text=True)
    saved = client.post(
        f"/trainings/courses/{course.id}/edit",
        data={
            "csrf_token": csrf_token_from(page),
            "title": "Анафилаксия",
            "description": "Новое",
            "academic_hours": "1.5",
            "nmo_id": "",
        },
        follow_redirects=True,
    )
    assert "Курс сохранён." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert (course.title, course.academic_hours, course.nmo_id) == ("Анафилаксия", Decimal("1.5"), None)


def test_cancelling_a_course_on_its_page(client, auth, trainer, course, schedule):
    training = schedule(start=local(3, 10))
    auth.login(trainer)
    page = client.get(f"/trainings/courses/{course.id}/edit").get_data(as_text=True)
    assert 'id="cancel-course"' in page
    response = client.post(
        f"/trainings/courses/{course.id}/cancel",
        data={"csrf_token": csrf_token_from(page), "reason": "Лектор заболел"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Курс отменён, вместе с ним отменены предстоящие занятия (1)" in html
    assert "курс отменён" in html
    db.session.expire_all()
    assert training.status == "cancelled" and course.cancelled_at is not None
    schedule_page = client.get("/trainings/sessions/new").get_data(as_text=True)
    assert "Анафилаксия у детей" not in schedule_page  # no new sessions of a cancelled course


def test_trainer_moves_a_session_on_its_page(client, auth, trainer, schedule, make_user, clinic):
    training = schedule(start=local(3, 10), minutes=90)
    colleague = make_user(role="trainer", clinic=clinic, full_name="Ольга Викторовна Сменщица")
    auth.login(trainer)
    roster = client.get(f"/trainings/{training.id}/roster").get_data(as_text=True)
    assert f"/trainings/{training.id}/edit" in roster
    page = client.get(f"/trainings/{training.id}/edit").get_data(as_text=True)
    assert 'value="10:00"' in page and 'value="11:30"' in page and "Ольга Викторовна Сменщица" in page
    day = to_local(local(4, 12), MOSCOW).date().isoformat()
    response = client.post(
        f"/trainings/{training.id}/edit",
        data={
            "csrf_token": csrf_token_from(page),
            "room_id": training.room_id,
            "day": day,
            "start_time": "12:00",
            "end_time": "13:30",
            "capacity": "6",
            "trainer_id": colleague.id,
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Занятие сохранено." in html and "Ольга Викторовна Сменщица" in html
    db.session.expire_all()
    assert (training.start_at, training.end_at, training.capacity, training.trainer_id) == (
        local(4, 12),
        local(4, 13, 30),
        6,
        colleague.id,
    )


def test_fewer_seats_than_enrolled_asks_for_the_choice_on_the_page(client, auth, trainer, schedule, make_user, clinic):
    training = schedule(start=local(3, 10), capacity=3)
    for _ in range(3):
        enrolling.enrol(make_user(role="doctor", clinic=clinic), training, now=utcnow())
    db.session.commit()
    auth.login(trainer)
    page = client.get(f"/trainings/{training.id}/edit").get_data(as_text=True)
    assert 'id="move-to-waitlist"' not in page
    form = {
        "csrf_token": csrf_token_from(page),
        "room_id": training.room_id,
        "day": to_local(training.start_at, MOSCOW).date().isoformat(),
        "start_time": "10:00",
        "end_time": "11:30",
        "capacity": "1",
        "trainer_id": trainer.id,
    }
    refused = client.post(f"/trainings/{training.id}/edit", data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Записано врачей: 3 — больше, чем мест (1)." in html and 'id="move-to-waitlist"' in html
    db.session.expire_all()
    assert training.capacity == 3
    saved = client.post(f"/trainings/{training.id}/edit", data={**form, "move_to_waitlist": "y"}, follow_redirects=True)
    assert "Лист ожидания: возвращено 2" in saved.get_data(as_text=True)
    db.session.expire_all()
    assert training.capacity == 1
    assert sorted(db.session.scalars(select(Enrolment.status).where(Enrolment.session_id == training.id))) == [
        "enrolled",
        "waitlisted",
        "waitlisted",
    ]


def test_doctors_and_other_clinics_cannot_open_the_editing_pages(client, auth, schedule, course, doctor, make_user):
    training = schedule(start=local(3, 10))
    auth.login(doctor)
    assert client.get(f"/trainings/{training.id}/edit").status_code == 403
    assert client.get(f"/trainings/courses/{course.id}/edit").status_code == 403
    auth.logout()
    auth.login(make_user(role="trainer"))
    assert client.get(f"/trainings/{training.id}/edit").status_code == 404
    assert client.get(f"/trainings/courses/{course.id}/edit").status_code == 404
    assert db.session.get(Course, course.id).title == "Анафилаксия у детей"
