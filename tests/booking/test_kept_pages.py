"""A doctor's schedule page is kept whole (portal.core.kept_pages) and served again with the request's
own CSRF token; everything around the schedule that can change without the room changing still shows
at once: a message after booking, a new notification, the language, the doctor's own name. A kept
page, and a kept availability answer, cost one statement: the caller's and the room's read together."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.auth import services
from portal.auth.models import ApiToken, User
from portal.booking.models import Booking
from portal.core import notifications
from portal.core.db import utcnow
from portal.extensions import db
from tests.conftest import Auth, csrf_token_from


@pytest.fixture
def noon(time_machine):
    """Noon in Moscow tomorrow, the clock stopped: the room is open and the page holds until the next grid line."""
    time_machine.move_to(utcnow().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1), tick=False)


@pytest.fixture
def schedule(room, workstations, noon):
    return f"/rooms/{room.id}/schedule"


def statements_of(client, path):
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return page, seen


def reads_in(statements):
    """The statements that read or write, without the transaction's own (SQLite's BEGIN)."""
    return [statement for statement in statements if statement.split(None, 1)[0].upper() != "BEGIN"]


def without_tokens(html):
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


def test_a_repeated_schedule_is_the_kept_page_with_each_browsers_own_token(app, client, auth, doctor, room, schedule):
    auth.login(doctor)
    first = client.get(schedule).get_data(as_text=True)
    again, statements = statements_of(client, schedule)
    other_browser = app.test_client()
    Auth(other_browser).login(doctor)
    there = other_browser.get(schedule).get_data(as_text=True)

    assert not any("FROM bookings" in statement for statement in statements)
    assert again.content_type == "text/html; charset=utf-8"
    assert without_tokens(again.get_data(as_text=True)) == without_tokens(first) == without_tokens(there)
    assert "kept-page-csrf-token" not in there and csrf_token_from(there) != csrf_token_from(first)
    booked = other_browser.post(
        f"/rooms/{room.id}/book-now", data={"csrf_token": csrf_token_from(there), "minutes": "30"}
    )
    assert booked.status_code == 302 and db.session.scalar(select(Booking.user_id)) == doctor.id


def test_the_message_after_booking_and_the_booking_show_on_the_kept_schedule(client, auth, doctor, room, schedule):
    auth.login(doctor)
    page = client.get(schedule).get_data(as_text=True)
    client.get(schedule)

    answer = client.post(
        f"/rooms/{room.id}/book-now", data={"csrf_token": csrf_token_from(page), "minutes": "30"}, follow_redirects=True
    )
    after = answer.get_data(as_text=True)
    next_view = client.get(answer.request.full_path).get_data(as_text=True)

    assert 'class="alert alert-success"' in after and "Забронировано" in after
    assert 'class="own"' in after and 'class="own"' in next_view
    assert 'class="alert alert-success"' not in next_view  # a message shows once


def test_a_new_notification_the_language_and_the_doctors_name_show_at_once(client, auth, doctor, schedule):
    auth.login(doctor)
    before = client.get(schedule).get_data(as_text=True)
    notifications.notify(db.session.get(User, doctor.id), "booking_cancelled", "Бронь отменена")
    db.session.commit()
    notified = client.get(schedule).get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf_token_from(notified), "lang": "en"})
    english = client.get(schedule).get_data(as_text=True)
    db.session.get(User, doctor.id).full_name = "Мария Ивановна Сидорова"
    db.session.commit()
    renamed = client.get(schedule).get_data(as_text=True)

    assert "text-bg-warning" not in before and 'text-bg-warning">1<' in notified
    assert '<html lang="ru">' in notified and '<html lang="en">' in english and "Week" in english
    assert "Петрова" in english and "Сидорова" in renamed and "Петрова" not in renamed


@pytest.mark.parametrize("switched_off", ["room", "clinic"])
def test_a_room_or_clinic_switched_off_offers_no_booking_on_the_next_view(
    client, auth, doctor, room, schedule, switched_off
):
    auth.login(doctor)
    before = client.get(schedule).get_data(as_text=True)
    (room if switched_off == "room" else room.clinic).active = False
    db.session.commit()
    after = client.get(schedule)

    assert 'id="book-now"' in before
    assert after.status_code == 200 and 'id="book-now"' not in after.get_data(as_text=True)


def test_a_repeated_schedule_costs_one_statement_reading_the_session_and_the_room(client, auth, doctor, schedule):
    auth.login(doctor)
    client.get(schedule)
    again, statements = statements_of(client, schedule)

    [statement] = reads_in(statements)
    assert again.status_code == 200 and "signin_sessions" in statement and "room_versions" in statement


def test_a_repeated_availability_costs_one_statement_reading_the_token_and_the_room(
    api_as, doctor, room, workstations, noon, time_machine
):
    time_machine.shift(timedelta(minutes=5))  # between grid lines: the answer holds until the next one
    api = api_as(doctor)
    path = f"/api/v1/rooms/{room.id}/availability?days=7"
    first = api.get(path)
    again, statements = statements_of(api, path)

    [statement] = reads_in(statements)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert "api_tokens" in statement and "room_versions" in statement


def test_the_schedule_read_with_the_session_still_refuses_an_ended_session_and_rooms_out_of_reach(
    client, auth, doctor, make_room, schedule
):
    auth.login(doctor)
    other_clinics_room = make_room()
    db.session.commit()
    pages = {path: client.get(path).status_code for path in (schedule, f"/rooms/{other_clinics_room.id}/schedule")}
    missing = client.get("/rooms/999999/schedule").status_code
    services.end_all_sessions(db.session.get(User, doctor.id))
    db.session.commit()
    ended = client.get(schedule)

    assert pages == {schedule: 200, f"/rooms/{other_clinics_room.id}/schedule": 404} and missing == 404
    assert ended.status_code == 302 and "/sign-in" in ended.headers["Location"]


def test_availability_read_with_the_token_still_refuses_a_revoked_token(api_as, doctor, room, workstations, noon):
    api = api_as(doctor)
    path = f"/api/v1/rooms/{room.id}/availability"
    assert api.get(path).status_code == 200
    services.revoke_token(db.session.scalar(select(ApiToken).where(ApiToken.user_id == doctor.id)))
    db.session.commit()
    refused = api.get(path)

    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "invalid_token"
