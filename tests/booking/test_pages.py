"""The booking pages without JavaScript: schedule, booking form with alternatives, book now, my bookings,
check-in, door display, calendar feed, e-mail preferences."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.booking.models import Booking
from portal.clinics.models import ProblemReport
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


def test_week_view_marks_own_bookings_and_hides_who_booked_from_doctors(
    client, signed_in, make_user, room, workstations, at
):
    other = make_user("doctor", clinic=room.clinic, full_name="Пётр Сидоров")
    db.session.add_all(
        [
            Booking(
                user_id=signed_in.id,
                workstation_id=workstations[0].id,
                room_id=room.id,
                start_at=at(1, "10:00"),
                end_at=at(1, "11:00"),
            ),
            Booking(
                user_id=other.id,
                workstation_id=workstations[1].id,
                room_id=room.id,
                start_at=at(1, "10:00"),
                end_at=at(1, "11:00"),
            ),
        ]
    )
    db.session.commit()
    page = client.get(f"/rooms/{room.id}/schedule?date={tomorrow(room)}").get_data(as_text=True)
    assert page.count('<td class="own"') == 1
    assert page.count('<td class="busy"') == 1
    assert "Сидоров" not in page
    assert "ПК-1" in page and "ПК-3" in page


def test_admins_see_who_booked_and_their_no_shows(auth, client, admin, doctor, room, workstations, at):
    db.session.add_all(
        [
            Booking(
                user_id=doctor.id,
                workstation_id=workstations[0].id,
                room_id=room.id,
                start_at=at(1, "10:00"),
                end_at=at(1, "11:00"),
            ),
            Booking(
                user_id=doctor.id,
                workstation_id=workstations[0].id,
                room_id=room.id,
                start_at=at(-2, "10:00"),
                end_at=at(-2, "11:00"),
                status="no_show",
            ),
        ]
    )
    db.session.commit()
    auth.login(admin)
    page = client.get(f"/rooms/{room.id}/schedule?date={tomorrow(room)}").get_data(as_text=True)
    table = page[page.index('id="admin-bookings"') :]
    assert doctor.full_name in table
    assert re.search(r'badge bg-warning text-dark">1<', table)


def test_the_form_books_without_javascript_and_the_day_view_shows_it(client, signed_in, room, workstations):
    response = book_form(
        client, room, workstation_id=workstations[1].id, day=tomorrow(room), start="12:00", end="13:00"
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ПК-2" in page and "12:00" in page
    booking = db.session.scalar(select(Booking))
    assert (booking.user_id, booking.workstation_id) == (signed_in.id, workstations[1].id)
    day = client.get(f"/rooms/{room.id}/schedule?view=day&date={tomorrow(room)}").get_data(as_text=True)
    assert day.count('<td class="own"') == 4  # four 15-minute slots


def test_a_refused_booking_shows_the_reason_and_alternatives_to_book_in_one_click(
    client, signed_in, make_user, room, workstations, at
):
    other = make_user("doctor", clinic=room.clinic)
    db.session.add(
        Booking(
            user_id=other.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "10:00"),
            end_at=at(1, "11:00"),
        )
    )
    db.session.commit()
    response = book_form(
        client, room, workstation_id=workstations[0].id, day=tomorrow(room), start="10:00", end="11:00"
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "уже забронировано" in page
    alternatives = page[page.index('id="alternatives"') : page.index('id="booking-form"')]
    assert "ПК-2" in alternatives and "10:00–11:00" in alternatives
    # Take the first alternative as offered.
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', alternatives.split("</form>")[0]))
    fields["csrf_token"] = csrf_token_from(page)
    assert client.post(f"/rooms/{room.id}/book", data=fields).status_code == 302
    assert (
        db.session.scalar(select(Booking.workstation_id).where(Booking.user_id == signed_in.id)) == workstations[1].id
    )


def test_the_form_shows_a_rule_message_next_to_the_field(client, signed_in, room, workstations):
    response = book_form(
        client, room, workstation_id=workstations[0].id, day=tomorrow(room), start="10:05", end="11:00"
    )
    assert response.status_code == 409
    assert re.search(r'is-invalid[^>]*name="start"|name="start"[^>]*is-invalid', response.get_data(as_text=True))


def test_book_now_takes_the_first_free_workstation_for_30_minutes(
    client, auth, doctor, make_room, make_workstation, time_machine
):
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
    soon = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=start,
        end_at=start + timedelta(minutes=30),
    )
    later = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=start + timedelta(days=2),
        end_at=start + timedelta(days=2, minutes=30),
    )
    db.session.add_all([soon, later])
    db.session.commit()
    page = client.get("/bookings").get_data(as_text=True)
    token = csrf_token_from(page)
    assert f"/bookings/{soon.id}/check-in" in page and f"/bookings/{later.id}/check-in" not in page
    client.post(f"/bookings/{soon.id}/check-in", data={"csrf_token": token})
    # "Cancel" leads to a page that asks; only its button cancels, and then it is back to the list.
    asking = client.get(link_to(page, f"/bookings/{later.id}/cancel")).get_data(as_text=True)
    assert "Отменить эту бронь?" in asking
    db.session.refresh(later)
    assert later.status == "booked"
    done = client.post(f"/bookings/{later.id}/cancel", data={**form_fields(asking), "confirm": "Да, отменить бронь"})
    assert done.headers["Location"] == "/bookings"
    db.session.refresh(soon)
    db.session.refresh(later)
    assert (soon.status, later.status) == ("checked_in", "cancelled")


def link_to(page, path):
    """The href of the first link of `page` to `path` (with its query string), as a browser reads it."""
    return html.unescape(re.search(r'href="(' + re.escape(path) + r'[^"]*)"', page).group(1))


def form_fields(page):
    """The named fields of the page's last form with their values, as the browser would post them."""
    form = page[page.rindex("<form") :]
    fields = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form)
    return {name: html.unescape(value) for name, value in fields}


def test_a_cancel_button_that_posts_at_once_only_asks_first(client, auth, admin, doctor, room, workstations, at):
    """The admins' cancel buttons in the schedule post the reason straight away: that post only asks."""
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    auth.login(admin)
    schedule = f"/rooms/{room.id}/schedule?date={tomorrow(room)}"
    asked = client.post(
        f"/bookings/{booking.id}/cancel",
        data={
            "csrf_token": csrf_token_from(client.get(schedule).get_data(as_text=True)),
            "reason": "Проверка ПК",
            "next": schedule,
        },
    )
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-cancel"' in page and doctor.full_name in page
    assert f'href="{html.escape(schedule)}" id="keep-booking"' in page
    db.session.refresh(booking)
    assert booking.status == "booked"
    fields = form_fields(page)
    assert (fields["reason"], fields["next"]) == ("Проверка ПК", schedule)
    done = client.post(f"/bookings/{booking.id}/cancel", data={**fields, "confirm": "Да, отменить бронь"})
    assert done.headers["Location"] == schedule
    db.session.refresh(booking)
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Проверка ПК")


def test_a_booking_that_can_no_longer_be_cancelled_says_so_instead_of_asking(client, signed_in, room, workstations, at):
    booking = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(-1, "10:00"),
        end_at=at(-1, "11:00"),
        status="completed",
    )
    db.session.add(booking)
    db.session.commit()
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "Эту бронь уже нельзя отменить." in page and 'id="confirm-cancel"' not in page


def test_a_cancelled_booking_no_longer_offers_to_add_it_to_a_calendar(client, signed_in, room, workstations, at):
    booking = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Добавить в календарь" in page and f"/bookings/{booking.id}.ics" in page
    asking = client.get(link_to(page, f"/bookings/{booking.id}/cancel")).get_data(as_text=True)
    done = client.post(f"/bookings/{booking.id}/cancel", data={**form_fields(asking), "confirm": "Да, отменить бронь"})
    assert done.headers["Location"] == f"/bookings/{booking.id}"
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Бронь отменена" in page
    assert "Добавить в календарь" not in page and f"/bookings/{booking.id}.ics" not in page
    assert 'id="cancel-booking"' not in page


def test_a_broken_computer_is_reported_from_the_booking_with_its_workstation_chosen(
    client, signed_in, room, workstations, at
):
    booking = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[1].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Сообщить о неисправности ПК-2" in page
    form = client.get(link_to(page, f"/rooms/{room.id}/report-problem")).get_data(as_text=True)
    assert re.search(rf'<option selected value="workstation:{workstations[1].id}">ПК-2</option>', form)
    sent = client.post(
        f"/rooms/{room.id}/report-problem?next=/bookings/{booking.id}",
        data={
            "csrf_token": csrf_token_from(form),
            "target": f"workstation:{workstations[1].id}",
            "description": "Не включается",
        },
    )
    assert sent.headers["Location"] == f"/bookings/{booking.id}"
    report = db.session.scalar(select(ProblemReport))
    assert (report.workstation_id, report.reporter_id) == (workstations[1].id, signed_in.id)


def test_each_workstation_of_the_schedule_and_its_check_in_page_link_to_a_report_about_it(
    client, signed_in, room, workstations
):
    for view in ("week", "day"):
        page = client.get(f"/rooms/{room.id}/schedule?view={view}").get_data(as_text=True)
        for workstation in workstations:
            row = page[page.index(f'data-workstation="{workstation.id}"') :]
            header = row[: row.index("</th>")]
            report = urlsplit(link_to(header, f"/rooms/{room.id}/report-problem"))
            assert parse_qs(report.query)["target"] == [f"workstation:{workstation.id}"]
            assert f'aria-label="Сообщить о неисправности {workstation.label}"' in header
    check_in = client.get(f"/workstations/{workstations[2].id}/check-in").get_data(as_text=True)
    report = urlsplit(link_to(check_in, f"/rooms/{room.id}/report-problem"))
    assert parse_qs(report.query)["target"] == [f"workstation:{workstations[2].id}"]
    assert "Сообщить о неисправности ПК-3" in check_in


def test_book_now_before_opening_says_when_the_room_opens(client, auth, doctor, room, workstations, time_machine):
    # 07:00 in Moscow: the room opens at 08:00.
    early = utcnow().replace(hour=4, minute=0, second=0, microsecond=0) + timedelta(days=1)
    time_machine.move_to(early, tick=False)
    auth.login(doctor)
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    refused = client.post(
        f"/rooms/{room.id}/book-now", data={"csrf_token": csrf_token_from(page), "minutes": "30"}, follow_redirects=True
    )
    assert "Кабинет закрыт. Откроется сегодня в 08:00." in refused.get_data(as_text=True)
    assert db.session.scalar(select(Booking)) is None


def test_the_workstation_qr_page_offers_check_in_for_the_current_booking(client, signed_in, room, workstations):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=3)
    booking = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=start,
        end_at=start + timedelta(minutes=30),
    )
    db.session.add(booking)
    db.session.commit()
    page = client.get(f"/workstations/{workstations[0].id}/check-in").get_data(as_text=True)
    assert 'id="check-in"' in page
    other = client.get(f"/workstations/{workstations[1].id}/check-in").get_data(as_text=True)
    assert 'id="check-in"' not in other


def test_the_door_display_shows_states_and_check_in_qr_codes_without_names(
    app, client, auth, admin, doctor, room, workstations, at, time_machine
):
    time_machine.move_to(at(0, "12:00"), tick=False)  # the room is open whenever the suite runs
    now = utcnow()
    db.session.add(
        Booking(
            user_id=doctor.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=now - timedelta(minutes=5),
            end_at=now + timedelta(minutes=25),
            status="checked_in",
        )
    )
    db.session.commit()
    auth.login(doctor)
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    assert client.post(f"/rooms/{room.id}/display-link", data={"csrf_token": csrf_token_from(page)}).status_code == 403
    auth.logout()
    auth.login(admin)
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    # The link is built on the portal's address, never on the request's Host header (a client's choice).
    app.config["PORTAL_BASE_URL"] = "https://portal.example"
    shown = client.post(f"/rooms/{room.id}/display-link", data={"csrf_token": csrf_token_from(page)})
    link = re.search(r'id="secret-link" value="([^"]+)"|value="([^"]+)" id="secret-link"', shown.get_data(as_text=True))
    url = next(group for group in link.groups() if group)
    assert url.startswith("https://portal.example/display/")
    auth.logout()
    display = client.get(url.removeprefix("https://portal.example"))
    page = display.get_data(as_text=True)
    assert display.status_code == 200
    assert page.count('class="qr check-in-qr"') == 3 and doctor.full_name not in page
    assert page.count("<svg") == 4 and f'href="/rooms/{room.id}/report-problem"' in page
    assert "ПК-1" in page and "занято" in page
    assert client.get("/display/not-a-token").status_code == 404


def test_the_closed_door_display_says_when_the_room_opens_and_offers_no_check_in_on_a_broken_computer(
    client, admin, doctor, room, workstations, at, time_machine
):
    from portal.booking import links

    # 22:00 in Moscow: the room opens again at 08:00 tomorrow, and ПК-1 has a booking from 09:00.
    time_machine.move_to(at(0, "22:00"), tick=False)
    workstations[2].status = "out_of_service"
    db.session.add(
        Booking(
            user_id=doctor.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "09:00"),
            end_at=at(1, "10:00"),
        )
    )
    token = links.issue_display_token(admin, room)
    db.session.commit()
    page = client.get(f"/display/{token}").get_data(as_text=True)
    assert re.search(r'id="room-closed">\s*Кабинет закрыт. Откроется завтра в 08:00.', page)
    assert "закрыто до" not in page
    cards = {label: page[page.index(f">{label}<") :][:800] for label in ("ПК-1", "ПК-2", "ПК-3")}
    assert "Далее: занято с 09:00" in cards["ПК-1"]
    assert "не работает" in cards["ПК-3"] and "check-in-qr" not in cards["ПК-3"]
    assert page.count('class="qr check-in-qr"') == 2


def test_the_calendar_feed_is_valid_icalendar_and_revocable(app, client, signed_in, room, workstations, at):
    db.session.add(
        Booking(
            user_id=signed_in.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "10:00"),
            end_at=at(1, "11:00"),
        )
    )
    db.session.commit()
    page = client.get("/calendar").get_data(as_text=True)
    shown = client.post("/calendar", data={"csrf_token": csrf_token_from(page)}).get_data(as_text=True)
    url = re.search(r'value="(http[^"]+\.ics)"', shown).group(1).removeprefix(app.config["PORTAL_BASE_URL"])
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
    booking = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    response = client.get(f"/bookings/{booking.id}.ics")
    assert 'filename="booking-' in response.headers["Content-Disposition"]
    [event] = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["uid"]).startswith(f"booking-{booking.id}@")


def test_an_ics_file_keeps_names_typed_with_line_breaks_on_one_line(client, signed_in, room, workstations, at):
    workstations[0].label = "ПК-1\r\nУ окна"
    room.location = "Этаж 2\nкаб. 214"
    booking = Booking(
        user_id=signed_in.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    [event] = Calendar.from_ical(client.get(f"/bookings/{booking.id}.ics").data).walk("VEVENT")
    assert str(event["summary"]) == "Рабочее место ПК-1 У окна — Кабинет 1"
    assert str(event["location"]).endswith("Этаж 2 каб. 214")


def test_another_clinics_room_and_booking_are_404(client, auth, make_user, room, workstations, at):
    doctor = make_user("doctor", clinic=room.clinic)
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    auth.login(make_user("doctor"))
    assert client.get(f"/rooms/{room.id}/schedule").status_code == 404
    assert client.get(f"/bookings/{booking.id}").status_code == 404
    assert client.get(f"/bookings/{booking.id}.ics").status_code == 404


GENITIVE_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def test_book_now_during_a_closure_says_on_which_day_the_room_opens(
    client, auth, doctor, room, workstations, at, time_machine
):
    from portal.clinics.models import Closure

    time_machine.move_to(at(0, "12:00"), tick=False)
    db.session.add(Closure(room=room, start_at=at(0, "00:00"), end_at=at(3, "00:00"), reason="Ремонт"))
    db.session.commit()
    auth.login(doctor)
    page = client.get(f"/rooms/{room.id}/schedule").get_data(as_text=True)
    refused = client.post(
        f"/rooms/{room.id}/book-now", data={"csrf_token": csrf_token_from(page), "minutes": "60"}, follow_redirects=True
    ).get_data(as_text=True)
    opens = to_local(at(3, "08:00"), room.timezone)
    assert f"Кабинет закрыт. Откроется {opens.day} {GENITIVE_MONTHS[opens.month - 1]} в 08:00." in refused
    assert db.session.scalar(select(Booking)) is None
