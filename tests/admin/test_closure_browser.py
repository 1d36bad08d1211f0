"""In a real browser: an admin adds a closure over booked time, sees what it would cancel, and confirms."""

import pytest
from sqlalchemy import select

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.time import iso
from portal.extensions import db
from tests.axe import problems_on, with_axe
from tests.conftest import browser_sign_in
from tests.training.conftest import MOSCOW, local


@pytest.mark.browser
def test_admin_adds_a_closure_over_a_booking_and_confirms_cancelling_it(
    page, live_server, make_room, make_workstation, make_user, tmp_path
):
    room = make_room(name="Кабинет роста")
    admin = make_user(role="admin", clinic=room.clinic, full_name="Анна Админова")
    doctor = make_user(role="doctor", clinic=room.clinic, full_name="Мария Ивановна Петрова")
    db.session.add(
        Booking(
            user_id=doctor.id,
            workstation_id=make_workstation(room=room, label="ПК-7").id,
            room_id=room.id,
            start_at=local(3, 10),
            end_at=local(3, 11),
            status="booked",
            created_by_id=doctor.id,
        )
    )
    email, room_id = admin.email, room.id
    db.session.commit()  # SQLite: the test's open transaction would hold the write lock the server needs

    with_axe(page)
    browser_sign_in(page, live_server, email)
    page.goto(f"{live_server.url}/admin/rooms/{room_id}/schedule")
    problems = problems_on(page, "room schedule")
    page.fill("#add-closure input[name=start]", iso(local(3, 0), MOSCOW)[:16])
    page.fill("#add-closure input[name=end]", iso(local(4, 0), MOSCOW)[:16])
    page.fill("#add-closure input[name=reason]", "Ремонт вентиляции")
    page.click("#add-closure button[type=submit]")

    affected = page.locator("#closure-affected")
    affected.wait_for()
    assert "ПК-7" in affected.inner_text() and "Мария Ивановна Петрова" in affected.inner_text()
    assert page.locator("#closures").inner_text().count("Ремонт вентиляции") == 0
    page.screenshot(path=str(tmp_path / "closure-affected.png"), full_page=True)
    problems += problems_on(page, "closure over bookings")
    page.click("#closure-affected button:has-text('Отменить их и добавить закрытие')")

    page.wait_for_selector("text=Закрытие добавлено. Отменено броней: 1, занятий: 0")
    assert "Ремонт вентиляции" in page.locator("#closures").inner_text()
    assert problems + problems_on(page, "closure added") == []
    db.session.expire_all()
    assert db.session.scalar(select(Booking.status)) == "cancelled"
    assert db.session.scalar(select(Closure.reason)) == "Ремонт вентиляции"
