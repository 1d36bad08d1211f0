"""The training pages as doctors and trainers use them (Russian by default)."""

from datetime import timedelta

from sqlalchemy import select

from portal.core.db import utcnow
from portal.core.time import to_local
from portal.extensions import db
from portal.training.models import Course, Enrolment, TrainingSession
from tests.conftest import csrf_token_from
from tests.training.conftest import MOSCOW, local


def test_doctor_finds_a_session_by_topic_and_enrols_in_one_click(client, auth, schedule, doctor, course, clinic):
    pubmed = Course(clinic_id=clinic.id, title="Поиск в PubMed", academic_hours=1)
    db.session.add(pubmed)
    db.session.commit()
    training = schedule(start=local(2, 10), capacity=3)
    schedule(start=local(2, 14), of_course=pubmed)
    auth.login(doctor)

    page = client.get("/trainings", query_string={"topic": "АНАФИЛАКСИЯ"}).get_data(as_text=True)
    assert "Анафилаксия у детей" in page and "Поиск в PubMed" not in page
    assert "Свободно мест: 3 из 3" in page

    token = csrf_token_from(page)
    enrolled = client.post(f"/trainings/{training.id}/enrol", data={"csrf_token": token}, follow_redirects=True)
    assert "Вы записаны на «Анафилаксия у детей»" in enrolled.get_data(as_text=True)
    assert "Свободно мест: 2 из 3" in enrolled.get_data(as_text=True)
    left = client.post(f"/trainings/{training.id}/leave", data={"csrf_token": token}, follow_redirects=True)
    assert "Вы отказались от занятия" in left.get_data(as_text=True)
    assert client.post(f"/trainings/{training.id}/enrol", data={}).status_code == 400  # no CSRF token


def test_date_filter_of_the_catalogue(client, auth, schedule, doctor):
    schedule(start=local(2, 10))
    later = schedule(start=local(9, 10))
    auth.login(doctor)
    day = to_local(later.start_at, MOSCOW).date().isoformat()
    page = client.get("/trainings", query_string={"first_day": day, "last_day": day}).get_data(as_text=True)
    assert page.count("training-card") == 1 and f'data-session-id="{later.id}"' in page


def test_doctors_cannot_open_the_trainer_pages(client, auth, schedule, doctor):
    training = schedule()
    auth.login(doctor)
    assert client.get("/trainings/manage").status_code == 403
    assert client.get("/trainings/sessions/new").status_code == 403
    assert client.get(f"/trainings/{training.id}/roster").status_code == 403


def test_trainer_creates_a_course_and_a_90_minute_session(client, auth, trainer, room):
    auth.login(trainer)
    form = client.get("/trainings/courses/new").get_data(as_text=True)
    created = client.post(
        "/trainings/courses/new",
        data={"csrf_token": csrf_token_from(form), "title": "Вакцинопрофилактика", "academic_hours": "2", "nmo_id": ""},
    )
    assert created.status_code == 302
    course = db.session.scalar(select(Course).where(Course.title == "Вакцинопрофилактика"))
    assert course.nmo_id is None and course.trainer_id == trainer.id

    start = local(3, 9)
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    response = client.post(
        "/trainings/sessions/new",
        data={
            "csrf_token": csrf_token_from(page),
            "course_id": course.id,
            "room_id": room.id,
            "day": to_local(start, MOSCOW).date().isoformat(),
            "start_time": "09:00",
            "duration": "90",
            "capacity": "10",
            "weeks": "1",
        },
    )
    assert response.status_code == 302
    training = db.session.scalar(select(TrainingSession))
    assert (training.start_at, training.end_at - training.start_at) == (start, timedelta(minutes=90))
    assert "Вакцинопрофилактика" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_refused_session_shows_the_reason_next_to_the_field(client, auth, trainer, room, course):
    auth.login(trainer)
    page = client.get("/trainings/sessions/new").get_data(as_text=True)
    response = client.post(
        "/trainings/sessions/new",
        data={
            "csrf_token": csrf_token_from(page),
            "course_id": course.id,
            "room_id": room.id,
            "day": to_local(local(3, 9), MOSCOW).date().isoformat(),
            "start_time": "19:30",
            "duration": "90",
            "capacity": "10",
            "weeks": "1",
        },
    )
    assert response.status_code == 400
    assert "Кабинет открыт не на всё время занятия." in response.get_data(as_text=True)
    assert db.session.scalar(select(TrainingSession.id)) is None


def test_series_form_reports_each_date(client, auth, trainer, room, course, schedule):
    schedule(start=local(8, 9))
    auth.login(trainer)
    page = client.get("/trainings/sessions/new").get_data(as_text=True)
    response = client.post(
        "/trainings/sessions/new",
        data={
            "csrf_token": csrf_token_from(page),
            "course_id": course.id,
            "room_id": room.id,
            "day": to_local(local(1, 9), MOSCOW).date().isoformat(),
            "start_time": "09:00",
            "duration": "45",
            "capacity": "10",
            "weeks": "3",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("table-success") == 2 and html.count("table-warning") == 1
    assert "В этом кабинете в это время уже есть другое занятие." in html


def test_roster_marks_attendance_and_prints_a_sign_in_sheet(client, auth, trainer, started_session, doctor):
    training = started_session(enrolled=[doctor])
    auth.login(trainer)
    roster = client.get(f"/trainings/{training.id}/roster").get_data(as_text=True)
    assert "Мария Ивановна Петрова" in roster
    saved = client.post(
        f"/trainings/{training.id}/attendance",
        data={"csrf_token": csrf_token_from(roster), f"attendance-{doctor.id}": "attended"},
        follow_redirects=True,
    )
    assert "Посещаемость сохранена (изменено: 1)" in saved.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment.status)) == "attended"
    sheet = client.get(f"/trainings/{training.id}/sign-in-sheet").get_data(as_text=True)
    assert "Лист регистрации" in sheet and "Мария Ивановна Петрова" in sheet and "Подпись" in sheet


def test_dashboard_lists_the_doctors_upcoming_trainings(client, auth, schedule, doctor):
    from portal.training import enrolling

    training = schedule()
    enrolling.enrol(doctor, training, now=utcnow())
    db.session.commit()
    auth.login(doctor)
    assert "Мои занятия" in client.get("/dashboard").get_data(as_text=True)
