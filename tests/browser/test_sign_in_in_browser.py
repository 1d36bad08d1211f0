import pytest

from portal.extensions import db
from tests.conftest import browser_sign_in, browser_sign_out, open_user_menu


@pytest.mark.browser
def test_doctor_signs_in_through_the_page_and_sees_the_dashboard(page, live_server, make_user, tmp_path):
    email = make_user(full_name="Мария Петрова").email
    db.session.commit()
    browser_sign_in(page, live_server, email)
    assert page.locator("h1").inner_text() == "Здравствуйте, Мария Петрова"
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 0
    browser_sign_out(page)
    assert page.locator("h1").inner_text() == "Вход"


@pytest.mark.browser
def test_the_english_switch_in_the_browser(page, live_server, make_user):
    email = make_user(full_name="Maria Petrova").email
    db.session.commit()
    browser_sign_in(page, live_server, email)
    open_user_menu(page)
    page.click("#language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Hello, Maria Petrova"
