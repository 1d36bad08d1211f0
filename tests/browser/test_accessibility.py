"""Accessibility in Chromium, with axe-core over every role's main pages of the demo data, in
Russian and English, on a 1280 px screen and a 390 px phone: no serious or critical violation,
no page wider than the screen, every role's navbar on one line at 1024 px. And the keyboard
alone is enough: the menus open, close and sign out, and a doctor books a workstation."""

import re

import pytest
from sqlalchemy import select, update

from portal import create_app
from portal.auth.models import User
from portal.booking.models import Booking
from portal.clinics.models import Clinic
from portal.demo.seed import DEMO_PASSWORD
from portal.extensions import db
from portal.training.models import Course, TrainingSession
from tests.axe import problems_on, with_axe
from tests.conftest import browser_sign_in, empty_all_tables, make_config, open_user_menu, serving

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 900}
NARROW_DESKTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}

DOCTOR, TRAINER, ADMIN, SUPERADMIN = (
    "doctor@dgp94.demo.portal",
    "trainer@dgp94.demo.portal",
    "admin@dgp94.demo.portal",
    "superadmin@demo.portal",
)
MAIN_PAGES = {
    DOCTOR: [
        "/dashboard",
        "/rooms/{room}/schedule",
        "/rooms/{room}/schedule?view=day",
        "/rooms/{room}/book",
        "/bookings",
        "/bookings/{booking}",
        "/calendar",
        "/trainings",
        "/trainings/record",
        "/search",
        "/search/reading-list",
        "/notifications",
        "/notifications/email",
        "/account",
        "/rooms/{room}/report-problem",
    ],
    TRAINER: [
        "/dashboard",
        "/trainings/manage",
        "/trainings/courses/new",
        "/trainings/courses/{course}/edit",
        "/trainings/sessions/new",
        "/trainings/{session}/edit",
        "/trainings/{session}/roster",
    ],
    ADMIN: [
        "/dashboard",
        "/admin/clinics/{clinic}",
        "/admin/rooms/{room}",
        "/admin/rooms/{room}/schedule",
        "/admin/clinics/{clinic}/equipment",
        "/admin/clinics/{clinic}/problem-reports",
        "/admin/clinics/{clinic}/users",
        "/admin/clinics/{clinic}/users/new",
        "/admin/clinics/{clinic}/usage",
        "/admin/audit",
        "/search/admin",
        "/search/admin/usage",
        "/rooms/{room}/schedule",
    ],
    SUPERADMIN: [
        "/dashboard",
        "/admin/",
        "/admin/city",
        "/admin/audit",
        "/admin/clinics/new",
        "/admin/clinics/import",
        "/admin/clinics/{clinic}/edit",
    ],
}


@pytest.fixture(scope="module")
def demo_portal(database_url):
    """The demo data (`portal seed-demo`) served once for the module's tests, which only read it or add
    what none of the others looks at (a booking next week); its tables are emptied at the end."""
    app = create_app(make_config(database_url))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "seed-demo"])
        assert result.exit_code == 0, result.output
        clinic = db.session.scalar(select(Clinic).where(Clinic.short_name == "ДГП-94"))
        doctor = db.session.scalar(select(User).where(User.email == DOCTOR))
        session = db.session.scalars(select(TrainingSession).join(Course).where(Course.clinic_id == clinic.id)).first()
        ids = {
            "clinic": clinic.id,
            "room": clinic.rooms[0].id,
            "course": session.course_id,
            "session": session.id,
            "booking": db.session.scalars(select(Booking.id).where(Booking.user_id == doctor.id)).first(),
        }
        db.session.commit()  # SQLite: the server needs the write lock
        with serving(app) as server:
            yield server, ids
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(demo_portal):
    server, _ids = demo_portal
    with server.app.app_context():
        # Each test starts in Russian, whatever language an earlier one left its users in.
        db.session.execute(update(User).values(locale="ru"))
        db.session.commit()
        yield server
        db.session.remove()


@pytest.fixture
def demo(demo_portal):
    return demo_portal[1]


def sign_in(page, live_server, email):
    browser_sign_in(page, live_server, email, password=DEMO_PASSWORD)


def switch_to_english(page):
    open_user_menu(page)
    page.click("#language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def open_every_menu(page):
    for menu in page.locator("details.nav-menu").all():
        menu.evaluate("menu => { menu.open = true; }")


@pytest.mark.parametrize("email", MAIN_PAGES)
def test_every_main_page_passes_axe_in_both_languages_on_a_screen_and_a_phone(page, live_server, demo, email):
    with_axe(page)
    problems = []
    if email == DOCTOR:
        page.goto(live_server.url + "/sign-in")
        for viewport in (WIDE, PHONE):
            page.set_viewport_size(viewport)
            problems += problems_on(page, f"ru {viewport['width']} px /sign-in")
        page.set_viewport_size(WIDE)
    sign_in(page, live_server, email)
    for language in ("ru", "en"):
        if language == "en":
            switch_to_english(page)
        for path in MAIN_PAGES[email]:
            page.set_viewport_size(WIDE)
            response = page.goto(live_server.url + path.format(**demo))
            assert response.ok, f"{path} answered {response.status}"
            for viewport in (WIDE, PHONE):
                page.set_viewport_size(viewport)
                problems += problems_on(page, f"{language} {viewport['width']} px {path}")
        # The menus open: the management and user menus on a screen, the folded menu on a phone.
        page.goto(live_server.url + "/dashboard")
        open_every_menu(page)
        problems += problems_on(page, f"{language} {WIDE['width']} px, menus open")
        page.set_viewport_size(PHONE)
        page.click("#main-nav-toggle")
        problems += problems_on(page, f"{language} {PHONE['width']} px, phone menu open")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("email", MAIN_PAGES)
def test_every_roles_navbar_fits_one_line_at_1024_px_with_sign_out_and_notifications_in_reach(
    page, live_server, demo, email
):
    sign_in(page, live_server, email)
    for language in ("ru", "en"):
        if language == "en":
            switch_to_english(page)
        page.set_viewport_size(NARROW_DESKTOP)
        page.goto(live_server.url + "/dashboard")
        rows = page.evaluate("""() => [...document.querySelectorAll('#main-nav > ul > li, #user-menu')]
                                        .map(element => Math.round(element.getBoundingClientRect().bottom))""")
        assert max(rows) - min(rows) <= 10, f"{language}: the navbar takes more than one line: {rows}"
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW_DESKTOP["width"]
        assert page.locator("#user-menu .user-name").is_visible()
        open_user_menu(page)
        for reachable in ("#sign-out", "#user-menu a[href='/notifications']"):
            box = page.locator(reachable).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= NARROW_DESKTOP["width"], reachable


def focus_by_tabbing(page, selector, limit=400):
    """Press Tab until the focused element matches `selector`, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_doctor_books_a_workstation_with_the_keyboard_alone(page, live_server, demo):
    doctor_id = db.session.scalar(select(User.id).where(User.email == DOCTOR))
    bookings_before = set(db.session.scalars(select(Booking.id).where(Booking.user_id == doctor_id)))
    db.session.commit()
    sign_in(page, live_server, DOCTOR)
    page.goto(f"{live_server.url}/rooms/{demo['room']}/schedule?view=week")
    # Next week: free hours whatever the time of day the test runs.
    focus_by_tabbing(page, "a[aria-label='Позже']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*date=.*"))
    focus_by_tabbing(page, "tr[data-workstation] td.free a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/book\?.*"))
    focus_by_tabbing(page, "#confirm-booking")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/schedule\?.*"))
    assert "Забронировано" in page.inner_text(".alert-success")
    [booked] = db.session.scalars(
        select(Booking).where(Booking.user_id == doctor_id, Booking.id.not_in(bookings_before))
    ).all()
    assert booked.status == "booked"


def test_the_menus_work_with_the_keyboard(page, live_server, demo):
    sign_in(page, live_server, ADMIN)
    focus_by_tabbing(page, "#menu-admin > summary")
    page.keyboard.press("Enter")
    focus_by_tabbing(page, ".nav-menu-link")
    assert page.evaluate("document.activeElement.textContent") == "Поликлиники и кабинеты"
    page.keyboard.press("Escape")
    assert page.locator("nav details[open]").count() == 0
    assert page.evaluate("document.activeElement.textContent.trim()") == "Управление"

    focus_by_tabbing(page, "#user-menu summary")
    page.keyboard.press("Space")
    focus_by_tabbing(page, "#sign-out")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in")


def test_on_a_phone_the_menu_button_shows_and_hides_the_links(page, live_server, demo):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, DOCTOR)
    toggle = page.locator("#main-nav-toggle")
    assert not page.locator("#main-nav").is_visible()
    focus_by_tabbing(page, "#main-nav-toggle")
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("#main-nav >> text=Мои брони").is_visible()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("#main-nav").is_visible()
