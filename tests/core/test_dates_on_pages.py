"""Pages take dates in the years 2000–2100 only: anything else is a 400 with the field's message or an
error page, never a 500, and nothing is stored."""

import pytest
from sqlalchemy import func, select

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.db import utcnow
from portal.extensions import db
from portal.training import courses
from portal.training.models import TrainingSession
from tests.conftest import csrf_token_from

FAR_DAYS = ["9999-12-31", "0001-01-01", "2101-01-01"]


@pytest.fixture
def room(make_room, make_workstation):
    room = make_room()
    make_workstation(room=room)
    return room


@pytest.fixture
def admin(make_user, room):
    return make_user(role=["admin", "trainer", "doctor"], clinic=room.clinic)


@pytest.fixture
def signed_in(auth, admin):
    auth.login(admin)
    return admin


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("day", [*FAR_DAYS, "2026-02-30", "завтра"])
@pytest.mark.parametrize("view", ["week", "day"])
def test_a_schedule_of_a_day_outside_the_years_is_a_400_page(client, signed_in, room, view, day):
    response = client.get(f"/rooms/{room.id}/schedule?view={view}&date={day}")
    assert response.status_code == 400
    assert "2000" in response.get_data(as_text=True)


def test_a_schedule_without_a_date_shows_today(client, signed_in, room):
    assert client.get(f"/rooms/{room.id}/schedule?date=").status_code == 200


@pytest.mark.parametrize("day", FAR_DAYS)
def test_the_booking_form_refuses_a_day_outside_the_years(client, signed_in, room, day):
    page = client.get(f"/rooms/{room.id}/book").get_data(as_text=True)
    response = client.post(
        f"/rooms/{room.id}/book",
        data={
            "csrf_token": csrf_token_from(page),
            "workstation_id": room.workstations[0].id,
            "day": day,
            "start": "10:00",
            "end": "11:00",
        },
    )
    assert response.status_code == 400
    assert "Введите дату с 2000 по 2100 год." in response.get_data(as_text=True)
    assert count(Booking) == 0


@pytest.mark.parametrize("start", ["9999-12-31T23:30", "0001-01-01T00:00", "не дата"])
def test_the_booking_form_ignores_a_prefilled_time_it_cannot_use(client, signed_in, room, start):
    assert client.get(f"/rooms/{room.id}/book?start={start}").status_code == 200


@pytest.mark.parametrize("start", ["9999-12-31T10:00", "0001-01-01T10:00"])
def test_the_closure_form_refuses_a_time_outside_the_years_and_stores_nothing(client, signed_in, room, start):
    page = client.get(f"/admin/rooms/{room.id}/schedule").get_data(as_text=True)
    response = client.post(
        f"/admin/rooms/{room.id}/closures",
        data={"csrf_token": csrf_token_from(page), "start": start, "end": "2030-03-04T10:00", "reason": "ремонт"},
    )
    assert response.status_code == 400
    assert "Введите дату и время с 2000 по 2100 год." in response.get_data(as_text=True)
    assert count(Closure) == 0
    assert client.get(f"/admin/rooms/{room.id}/schedule").status_code == 200


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2026-13", "январь"])
@pytest.mark.parametrize("page", ["usage", "usage.csv"])
def test_a_usage_report_of_a_month_outside_the_years_is_a_400(client, signed_in, room, page, month):
    response = client.get(f"/admin/clinics/{room.clinic_id}/{page}?month={month}")
    assert response.status_code == 400
    assert "2026-11" in response.get_data(as_text=True)


@pytest.mark.parametrize("day", FAR_DAYS)
def test_the_session_form_refuses_a_day_outside_the_years(client, signed_in, room, day):
    course = courses.create_course(signed_in, room.clinic_id, title="ЭКГ", academic_hours=1, now=utcnow())
    db.session.commit()
    page = client.get("/trainings/sessions/new").get_data(as_text=True)
    response = client.post(
        "/trainings/sessions/new",
        data={
            "csrf_token": csrf_token_from(page),
            "course_id": course.id,
            "room_id": room.id,
            "day": day,
            "start_time": "10:00",
            "duration": "45",
            "capacity": "5",
            "weeks": "1",
        },
    )
    assert response.status_code == 400
    assert "Введите дату с 2000 по 2100 год." in response.get_data(as_text=True)
    assert count(TrainingSession) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/trainings?first_day={}",
        "/trainings?last_day={}",
        "/trainings/record?first_day={}",
        "/trainings/record?last_day={}",
        "/admin/audit?date_from={}",
        "/admin/audit?date_to={}",
    ],
)
@pytest.mark.parametrize("day", FAR_DAYS)
def test_filters_with_a_day_outside_the_years_show_the_message(client, signed_in, path, day):
    response = client.get(path.format(day))
    assert response.status_code < 500
    assert "Введите дату с 2000 по 2100 год." in response.get_data(as_text=True)
