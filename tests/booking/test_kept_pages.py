"""A doctor's schedule page is kept whole (portal.core.kept_pages) and served again with the request's
own CSRF token; everything around the schedule that can change without the room changing still shows
at once: a message after booking, a new notification, the language, the doctor's own name."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.auth.models import User
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
