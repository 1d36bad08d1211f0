"""In Chromium on a phone-sized screen (390×844): the week is a list of days from today, a day is a list of
free times per workstation; one tap books, cancelling asks first."""

import re

import pytest
from sqlalchemy import select

from portal.booking.models import Booking
from portal.extensions import db
from tests.axe import problems_on, with_axe
from tests.conftest import browser_sign_in


@pytest.fixture
def phone(chromium, tmp_path):
    context = chromium.new_context(
        locale="ru-RU", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
    context.close()


@pytest.mark.browser
def test_a_doctor_books_and_cancels_on_a_phone(phone, live_server, doctor, room, workstations, tmp_path):
    email, schedule, first_workstation = doctor.email, f"{live_server.url}/rooms/{room.id}/schedule", workstations[0].id
    db.session.commit()  # SQLite: the live server needs the write lock
    with_axe(phone)
    browser_sign_in(phone, live_server, email)
    phone.goto(schedule)
    problems = problems_on(phone, "week on a phone")

    assert phone.locator("#schedule").is_hidden()  # no grid wider than the screen
    page_width = phone.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390
    days = phone.locator("#phone-days li")
    assert days.count() == 7
    assert re.match(r"^\w+, \d+ \w+", days.first.inner_text())  # "вторник, 1 декабря": the week starts today
    days.nth(1).locator("a").click()  # tomorrow: the whole day is free whatever the time
    phone.wait_for_url(re.compile(r".*view=day.*"))
    assert re.match(r"^\w+, \d+ \w+$", phone.inner_text("#shown-dates"))
    problems += problems_on(phone, "day on a phone")

    first = phone.locator("#phone-slots section").first
    slot = first.locator("button.phone-slot").first
    times = slot.inner_text()
    with phone.expect_navigation():  # back to the same day: the address alone would not tell
        slot.tap()
    assert "Забронировано" in phone.inner_text(".alert-success")
    own = phone.locator("#phone-slots .phone-own")
    assert own.count() == 1 and times in own.inner_text()
    phone.screenshot(path=str(tmp_path / "booked-on-phone.png"), full_page=True)
    assert problems + problems_on(phone, "booked on a phone") == []
    booking = db.session.scalars(select(Booking)).one()
    assert (booking.workstation_id, booking.status) == (first_workstation, "booked")
    db.session.commit()  # SQLite: free the write lock again

    with phone.expect_navigation():
        own.locator("button").tap()
    assert "Отменить эту бронь?" in phone.inner_text("h1")  # cancelling asks first
    problems = problems_on(phone, "cancel question on a phone")
    with phone.expect_navigation():
        phone.locator("#confirm-cancel").tap()
    assert "Бронь отменена" in phone.inner_text(".alert-success")
    assert phone.locator("#phone-slots .phone-own").count() == 0
    db.session.expire_all()
    assert db.session.scalars(select(Booking)).one().status == "cancelled"
    assert problems == []
