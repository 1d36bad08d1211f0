"""In Chromium: a doctor opens the room's week view, books a free slot, sees it as their own, cancels it."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.booking.models import Booking
from portal.extensions import db
from tests.conftest import browser_sign_in


@pytest.mark.browser
def test_doctor_books_a_free_slot_in_the_week_view_and_cancels_it(page, live_server, doctor, room, workstations,
                                                                  tmp_path):
    email, schedule = doctor.email, f"{live_server.url}/rooms/{room.id}/schedule?view=week"
    db.session.commit()  # SQLite: the live server needs the write lock
    browser_sign_in(page, live_server, email)
    page.goto(schedule)
    # Next week, so that the whole row has free hours whatever the time of day the test runs.
    page.click("a[aria-label='Позже']")
    page.locator("tr[data-workstation] td.free a").first.click()
    page.wait_for_url(re.compile(r".*/book\?.*"))
    page.click("#confirm-booking")
    page.wait_for_url(re.compile(r".*/schedule\?.*"))
    assert "Забронировано" in page.inner_text(".alert-success")
    own = page.locator("td.own a")
    assert own.count() == 1
    page.screenshot(path=str(tmp_path / "booked.png"), full_page=True)

    own.first.click()
    page.click("#cancel-booking")
    page.wait_for_url(re.compile(r".*/bookings/\d+"))
    assert "Бронь отменена" in page.inner_text(".alert-success")
    page.goto(schedule)
    page.click("a[aria-label='Позже']")
    assert page.locator("td.own").count() == 0
    page.screenshot(path=str(tmp_path / "cancelled.png"), full_page=True)
    booking = db.session.scalars(select(Booking)).one()
    assert (booking.status, booking.end_at - booking.start_at) == ("cancelled", timedelta(minutes=60))
