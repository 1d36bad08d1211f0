"""In Chromium: a doctor opens the room's week view, books a free slot, sees it as their own, reports the
computer as broken from the booking, and cancels the booking through its confirmation."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.booking.models import Booking
from portal.clinics.models import ProblemReport
from portal.extensions import db
from tests.axe import problems_on, with_axe
from tests.conftest import browser_sign_in


@pytest.mark.browser
def test_doctor_books_a_free_slot_reports_its_computer_and_cancels_after_confirming(
    page, live_server, doctor, room, workstations, tmp_path
):
    email, schedule = doctor.email, f"{live_server.url}/rooms/{room.id}/schedule?view=week"
    db.session.commit()  # SQLite: the live server needs the write lock
    with_axe(page)
    browser_sign_in(page, live_server, email)
    page.goto(schedule)
    problems = problems_on(page, "week")
    # Next week, so that the whole row has free hours whatever the time of day the test runs.
    page.click("a[aria-label='Позже']")
    page.locator("tr[data-workstation] td.free a").first.click()
    page.wait_for_url(re.compile(r".*/book\?.*"))
    problems += problems_on(page, "booking form")
    page.click("#confirm-booking")
    page.wait_for_url(re.compile(r".*/schedule\?.*"))
    assert "Забронировано" in page.inner_text(".alert-success")
    own = page.locator("td.own a")
    assert own.count() == 1
    page.screenshot(path=str(tmp_path / "booked.png"), full_page=True)

    own.first.click()
    page.wait_for_url(re.compile(r".*/bookings/\d+$"))
    booking_url = page.url
    problems += problems_on(page, "booking")
    page.click("text=Сообщить о неисправности ПК-1")
    page.wait_for_url(re.compile(r".*/report-problem\?.*"))
    assert page.locator("select[name=target] option:checked").inner_text() == "ПК-1"
    problems += problems_on(page, "problem report")
    page.fill("textarea[name=description]", "Не включается монитор")
    page.click("#report-problem button[type=submit]")
    page.wait_for_url(booking_url)
    assert "Администраторы получили сообщение" in page.inner_text(".alert-success")
    page.screenshot(path=str(tmp_path / "reported.png"), full_page=True)

    # Cancelling asks first; "keep it" leaves the booking as it was.
    page.click("#cancel-booking")
    page.wait_for_url(re.compile(r".*/bookings/\d+/cancel\?.*"))
    assert "Отменить эту бронь?" in page.inner_text("h1")
    problems += problems_on(page, "cancel question")
    page.click("#keep-booking")
    page.wait_for_url(booking_url)
    assert "Бронь активна" in page.inner_text("h1")
    page.click("#cancel-booking")
    page.screenshot(path=str(tmp_path / "asked.png"), full_page=True)
    page.click("#confirm-cancel")
    page.wait_for_url(booking_url)
    assert "Бронь отменена" in page.inner_text(".alert-success")
    assert page.locator("text=Добавить в календарь").count() == 0
    page.goto(schedule)
    page.click("a[aria-label='Позже']")
    assert page.locator("td.own").count() == 0
    page.screenshot(path=str(tmp_path / "cancelled.png"), full_page=True)
    assert problems == []
    booking = db.session.scalars(select(Booking)).one()
    assert (booking.status, booking.end_at - booking.start_at) == ("cancelled", timedelta(minutes=60))
    report = db.session.scalars(select(ProblemReport)).one()
    assert (report.workstation_id, report.reporter_id, report.description) == (
        workstations[0].id,
        doctor.id,
        "Не включается монитор",
    )
