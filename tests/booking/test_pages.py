"""The booking pages without JavaScript: schedule, booking form with alternatives, book now, my bookings,
check-in, door display, calendar feed, e-mail preferences."""
import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.booking.models import Booking
from portal.core.db import utcnow
from portal.core.time import to_local
from portal.extensions import db
from tests.conftest import csrf_token_from


@pytest.fixture
def signed_in(auth, doctor, workstations):
    auth.login(doctor)
    return doctor


def tomorrow(room):
    return (to_local(utcnow(), room.timezone).date() + timedelta(days=1)).isoformat()


def book_form(client, room, **fields):
    page = client.get(f"/rooms/{room.id}/book").get_data(as_text=True)
    return client.post(f"/rooms/{room.id}/book", data={"csrf_token": csrf_token_from(page), **fields})


def test_week_view_marks_own_bookings_and_hides_who_booked_from_doctors(client, signed_in, make_user, room,
                                                                       workstations, at):
    other = make_user("doctor", clinic=room.clinic, full_name="Пётр Сидоров")
    db.session.add_all([
        Booking(user_id=signed_in.id, workstation_id=workstations[0].id, room_id=room.id,
                start_at=at(1, "10:00"), end_at=at(1, "11:00")),
        Booking(user_id=other.id, workstation_id=workstations[1].id, room_id=room.id,
                start_at=at(1, "10:00"), end_at=at(1, "11:00")),
    ])
    db.session.commit()
    page = client.get(f"/rooms/{room.id}/schedule?date={tomorrow(room)}").get_data(as_text=True)
    assert page.count('<td class="own"') == 1
    assert page.count('<td class="busy"') == 1
    assert "Сидоров" not in page
    assert "ПК-1" in page and "ПК-3" in page


def test_admins_see_who_booked_and_their_no_shows(auth, client, admin, doctor, room, workstations, at):
    db.session.add_all([
        Booking(user_id=doctor.id, workstation_id=workstations[0].id, room_id=room.id,
                start_at=at(1, "10:00"), end_at=at(1, "11:00")),
        Booking(user_id=doctor.id, workstation_id=workstations[0].id, room_id=room.id,
                start_at=at(-2, "10:00"), end_at=at(-2, "11:00"), status="no_show"),
    ])
    db.session.commit()
    auth.login(admin)
    page = client.get(f"/rooms/{room.id}/schedule?date={tomorrow(room)}").get_data(as_text=True)
    table = page[page.index('id="admin-bookings"'):]
    assert doctor.full_name in table
    assert re.search(r'badge bg-warning text-dark">1<', table)


def test_the_form_books_without_javascript_and_the_day_view_shows_it(client, signed_in, room, workstations):
    response = book_form(client, room, workstation_id=workstations[1].id, day=tomorrow(room), start="12:00",
                         end="13:00")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ПК-2" in page and "12:00" in page
    booking = db.session.scalar(select(Booking))
    assert (booking.user_id, booking.workstation_id) == (signed_in.id, workstations[1].id)
    day = client.get(f"/rooms/{room.id}/schedule?view=day&date={tomorrow(room)}").get_data(as_text=True)
    assert day.count('<td class="own"') == 4  # four 15-minute slots


def test_a_refused_booking_shows_the_reason_and_alternatives_to_book_in_one_click(client, signed_in, make_user, room,
                                                                                 workstations, at):
    other = make_user("doctor", clinic=room.clinic)
    db.session.add(Booking(user_id=other.id, workstation_id=workstations[0].id, room_id=room.id,
                           start_at=at(1, "10:00"), end_at=at(1, "11:00")))
    db.session.commit()
    response = book_form(client, room, workstation_id=workstations[0].id, day=tomorrow(room), start="10:00",
                         end="11:00")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "уже забронировано" in page
    alternatives = page[page.index('id="alternatives"'):page.index('id="booking-form"')]
    assert "ПК-2" in alternatives and "10:00–11:00" in alternatives
    # Take the first alternative as offered.
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', alternatives.split("</form>")[0]))
    fields["csrf_token"] = csrf_token_from(page)
    assert client.post(f"/rooms/{room.id}/book", data=fields).status_code == 302
    assert db.session.scalar(select(Booking.workstation_id).where(Booking.user_id == signed_in.id)) == \
        workstations[1].id


def test_the_form_shows_a_rule_message_next_to_the_field(client, signed_in, room, workstations):
    response = book_form(client, room, workstation_id=workstations[0].id, day=tomorrow(room), start="10:05",
                         end="11:00")
    assert response.status_code == 409
    assert re.search(r'is-invalid[^>]*name="start"|name="start"[^>]*is-invalid', response.get_data(as_text=True))


def test_book_now_takes_the_first_free_workstation_for_30_minutes(client, auth, doctor, make_room, make_workstation,
                                                                  time_machine):
    from datetime import time

    # Noon in Moscow: far from midnight, so the next 30 minutes are always inside today's hours.
    noon = utcnow().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    time_machine.move_to(noon, tick=False)
    auth.login(doctor)
    room = make_room(clinic=doctor.clinic, hours=((time(0), time(23, 59)),))
    first, _second = make_workstation(room=room, label="А-1"), make_workstation(room=room, label="А-2")
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    response = client.post(f"/rooms/{room.id}/book-now", data={"csrf_token": csrf_token_from(page), "minutes": "30"})
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.workstation_id == first.id
    assert booking.start_at == noon
    assert booking.end_at - booking.start_at == timedelta(minutes=30)


def test_my_bookings_cancel_and_check_in(client, signed_in, room, workstations):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=5)
    soon = Booking(user_id=signed_in.id, workstation_id=workstations[0].id, room_id=room.id,
                   start_at=start, end_at=start + timedelta(minutes=30))
    later = Booking(user_id=signed_in.id, workstation_id=workstations[0].id, room_id=room.id,
                    start_at=start + timedelta(days=2), end_at=start + timedelta(days=2, minutes=30))
    db.session.add_all([soon, later])
    db.session.commit()
    page = client.get("/bookings").get_data(as_text=True)
    token = csrf_token_from(page)
    assert f"/bookings/{soon.id}/check-in" in page and f"/bookings/{later.id}/check-in" not in page
    client.post(f"/bookings/{soon.id}/check-in", data={"csrf_token": token})
    client.post(f"/bookings/{later.id}/cancel", data={"csrf_token": token})
    db.session.refresh(soon)
    db.session.refresh(later)
    assert (soon.status, later.status) == ("checked_in", "cancelled")


def test_the_workstation_qr_page_offers_check_in_for_the_current_booking(client, signed_in, room, workstations):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=3)
    booking = Booking(user_id=signed_in.id, workstation_id=workstations[0].id, room_id=room.id,
                      start_at=start, end_at=start + timedelta(minutes=30))
    db.session.add(booking)
    db.session.commit()
    page = client.get(f"/workstations/{workstations[0].id}/check-in").get_data(as_text=True)
    assert 'id="check-in"' in page
    other = client.get(f"/workstations/{workstations[1].id}/check-in").get_data(as_text=True)
    assert 'id="check-in"' not in other


def test_the_door_display_shows_states_and_check_in_qr_codes_without_names(client, auth, admin, doctor, room,
                                                                           workstations):
    now = utcnow()
    db.session.add(Booking(user_id=doctor.id, workstation_id=workstations[0].id, room_id=room.id,
                           start_at=now - timedelta(minutes=5), end_at=now + timedelta(minutes=25),
                           status="checked_in"))
    db.session.commit()
    auth.login(doctor)
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    assert client.post(f"/rooms/{room.id}/display-link", data={"csrf_token": csrf_token_from(page)}).status_code == 403
    auth.logout()
    auth.login(admin)
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    shown = client.post(f"/rooms/{room.id}/display-link", data={"csrf_token": csrf_token_from(page)})
    link = re.search(r'id="secret-link" value="([^"]+)"|value="([^"]+)" id="secret-link"',
                     shown.get_data(as_text=True))
    url = next(group for group in link.groups() if group)
    auth.logout()
    display = client.get(url.replace("http://localhost", ""))
    html = display.get_data(as_text=True)
    assert display.status_code == 200
    assert html.count("<svg") == 3 and doctor.full_name not in html
    assert "ПК-1" in html and "занято" in html
    assert client.get("/display/not-a-token").status_code == 404


def test_the_calendar_feed_is_valid_icalendar_and_revocable(client, signed_in, room, workstations, at):
    db.session.add(Booking(user_id=signed_in.id, workstation_id=workstations[0].id, room_id=room.id,
                           start_at=at(1, "10:00"), end_at=at(1, "11:00")))
    db.session.commit()
    page = client.get("/calendar").get_data(as_text=True)
    shown = client.post("/calendar", data={"csrf_token": csrf_token_from(page)}).get_data(as_text=True)
    url = re.search(r'value="(http[^"]+\.ics)"', shown).group(1).replace("http://localhost", "")
    client.post("/sign-out", data={"csrf_token": csrf_token_from(shown)})
    feed = client.get(url)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == at(1, "10:00") and event.decoded("dtend") == at(1, "11:00")
    assert "ПК-1" in str(event["summary"]) and str(event["status"]) == "CONFIRMED"
    assert str(calendar["version"]) == "2.0" and calendar["prodid"]
    from tests.conftest import Auth

    Auth(client).login(signed_in)
    page = client.get("/calendar").get_data(as_text=True)
    client.post("/calendar/revoke", data={"csrf_token": csrf_token_from(page)})
    assert client.get(url).status_code == 404


def test_each_booking_downloads_as_an_ics_file(client, signed_in, room, workstations, at):
    booking = Booking(user_id=signed_in.id, workstation_id=workstations[0].id, room_id=room.id,
                      start_at=at(1, "10:00"), end_at=at(1, "11:00"))
    db.session.add(booking)
    db.session.commit()
    response = client.get(f"/bookings/{booking.id}.ics")
    assert 'filename="booking-' in response.headers["Content-Disposition"]
    [event] = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["uid"]).startswith(f"booking-{booking.id}@")


def test_another_clinics_room_and_booking_are_404(client, auth, make_user, room, workstations, at):
    doctor = make_user("doctor", clinic=room.clinic)
    booking = Booking(user_id=doctor.id, workstation_id=workstations[0].id, room_id=room.id,
                      start_at=at(1, "10:00"), end_at=at(1, "11:00"))
    db.session.add(booking)
    db.session.commit()
    auth.login(make_user("doctor"))
    assert client.get(f"/rooms/{room.id}/schedule").status_code == 404
    assert client.get(f"/bookings/{booking.id}").status_code == 404
    assert client.get(f"/bookings/{booking.id}.ics").status_code == 404
