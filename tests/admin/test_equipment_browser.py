"""In a real browser: an admin marks an item broken from the equipment list and sees it in the history."""

import pytest

from portal.clinics import inventory
from portal.extensions import db
from tests.conftest import browser_sign_in


@pytest.mark.browser
def test_admin_marks_an_item_broken_and_sees_it_in_the_history(page, live_server, make_room, make_user, tmp_path):

    room = make_room()
    admin = make_user(role="admin", clinic=room.clinic, full_name="Анна Админова")
    inventory.create_equipment(admin, room, kind="projector", inventory_number="ИН-555")
    email = admin.email
    # Commit last: on SQLite the test's open transaction would hold the write lock the server needs.
    db.session.commit()

    browser_sign_in(page, live_server, email)
    page.click("nav summary:has-text('Управление')")
    page.click("nav >> text=Поликлиники и кабинеты")
    page.click(".nav-tabs >> text=Оборудование")
    page.click("#equipment-list >> text=ИН-555")
    page.select_option("#equipment-status select[name=status]", "broken")
    page.fill("#equipment-status textarea[name=note]", "Не включается лампа")
    page.click("#equipment-status button[type=submit]")

    page.wait_for_selector("text=Сохранено.")
    rows = page.locator("#equipment-history tbody tr")
    assert rows.count() == 2
    last = rows.nth(1).inner_text()
    assert "в эксплуатации" in last and "требует ремонта" in last
    assert "Не включается лампа" in last and "Анна Админова" in last
    page.screenshot(path=str(tmp_path / "equipment-history.png"), full_page=True)
