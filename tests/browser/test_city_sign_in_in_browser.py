"""The city sign-in in a real Chromium: the button, the provider's own sign-in page, the dashboard,
and signing out of both."""

import re

import pytest

from portal.extensions import db
from tests.conftest import open_user_menu
from tests.oidc_provider import city_config


@pytest.fixture
def config_overrides(city):
    return city_config(city)


@pytest.fixture
def loopback_only(page):
    """The provider's page asks a CDN for its stylesheet: the browser stays on this machine."""
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])"), lambda route: route.abort())
    return page


@pytest.mark.browser
def test_a_doctor_signs_in_with_the_city_account_and_out_of_both(app, loopback_only, live_server, city, make_clinic):
    page = loopback_only
    app.config["PORTAL_BASE_URL"] = live_server.url  # the redirect URI registered at the provider
    make_clinic(code="0194")
    city.add_user(
        "sub-anna", email="anna.smirnova@mos.example", email_verified=True, name="Анна Смирнова", clinic_code="0194"
    )
    db.session.commit()

    page.goto(live_server.url + "/sign-in")
    page.click("#city-sign-in")
    page.wait_for_url(city.url + "/oauth2/authorize*")
    page.fill("input[name=sub]", "sub-anna")
    page.click("button[type=submit]:has-text('Authorize')")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    assert page.locator("h1").inner_text() == "Здравствуйте, Анна Смирнова"

    open_user_menu(page)
    page.click("#sign-out")
    page.wait_for_url(city.url + "/oauth2/end_session*")
    page.click("button:has-text('End session')")
    page.wait_for_url(re.compile(r".*/sign-in(\?.*)?$"))
    assert page.locator("h1").inner_text() == "Вход"
    page.goto(live_server.url + "/dashboard")
    page.wait_for_url(re.compile(r".*/sign-in.*"))


@pytest.mark.browser
def test_a_doctor_of_a_clinic_not_yet_connected_sees_why(app, loopback_only, live_server, city):
    page = loopback_only
    app.config["PORTAL_BASE_URL"] = live_server.url
    city.add_user("sub-boris", email="boris@mos.example", email_verified=True, name="Борис Орлов", clinic_code="0999")
    page.goto(live_server.url + "/sign-in")
    page.click("#city-sign-in")
    page.fill("input[name=sub]", "sub-boris")
    page.click("button[type=submit]:has-text('Authorize')")
    page.wait_for_url(re.compile(r".*/sign-in/oidc/callback.*"))
    assert "Ваша поликлиника ещё не подключена к порталу" in page.locator("#city-sign-in-refused").inner_text()
