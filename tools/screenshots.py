"""`make screenshots`: the README's pictures of the main pages, taken from the demo data.

Seeds the demo into a temporary SQLite database, serves the portal on loopback and saves
PNGs of each role's main pages with Playwright and Debian's Chromium into docs/screenshots/.
"""
import os
import shutil
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "screenshots"
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# (file name, demo user or None for the sign-in page, path, viewport, open the phone menu)
SHOTS = [
    ("sign-in", None, "/sign-in", WIDE, False),
    ("doctor-dashboard", "doctor@dgp94.demo.portal", "/dashboard", WIDE, False),
    ("doctor-book-a-workstation", "doctor@dgp94.demo.portal", "room-schedule", WIDE, False),
    ("doctor-my-bookings", "doctor@dgp94.demo.portal", "/bookings", WIDE, False),
    ("doctor-trainings", "doctor@dgp94.demo.portal", "/trainings", WIDE, False),
    ("doctor-search", "doctor@dgp94.demo.portal", "/search", WIDE, False),
    ("trainer-run-trainings", "trainer@dgp94.demo.portal", "/trainings/manage", WIDE, False),
    ("admin-clinic-overview", "admin@dgp94.demo.portal", "/admin/", WIDE, False),
    ("superadmin-city-view", "superadmin@demo.portal", "/admin/city", WIDE, False),
    ("phone-doctor-dashboard", "doctor@dgp94.demo.portal", "/dashboard", PHONE, False),
    ("phone-doctor-menu", "doctor@dgp94.demo.portal", "/dashboard", PHONE, True),
]


def demo_app(database_path):
    """The portal on a fresh SQLite database holding the demo data."""
    from flask_migrate import upgrade

    from config import DevelopmentConfig
    from portal import create_app

    config = DevelopmentConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{database_path}"
    config.LOG_REQUESTS = False
    app = create_app(config)
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["portal", "seed-demo"])
    if result.exit_code != 0:
        raise SystemExit(f"seeding the demo failed:\n{result.output}")
    return app


@contextmanager
def serving(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def sign_in(page, base_url, email):
    from portal.demo.seed import DEMO_PASSWORD

    page.goto(base_url + "/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]:not([name=lang])")
    page.wait_for_url("**/dashboard")


def room_schedule_path(page, base_url):
    """The first room's week, reached the way a doctor does: from the list of rooms."""
    page.goto(base_url + "/booking")
    return page.locator("a[href*='/schedule']").first.get_attribute("href")


def take(browser, base_url):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, email, path, viewport, open_menu in SHOTS:
        context = browser.new_context(locale="ru-RU", viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        if email:
            sign_in(page, base_url, email)
        if path == "room-schedule":
            path = room_schedule_path(page, base_url)
        page.goto(base_url + path)
        if open_menu:
            page.click("#main-nav-toggle")
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=not open_menu and viewport is WIDE)
        print(f"  {OUTPUT.relative_to(ROOT) / name}.png")
        context.close()


def main():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        sys.exit("Chromium is not installed: `make browser` installs Debian's package.")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as workdir:
        os.environ.setdefault("PORTAL_INSTANCE_DIR", workdir)  # the development secret key goes there
        app = demo_app(Path(workdir) / "demo.sqlite3")
        with serving(app) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
            take(browser, base_url)
            browser.close()


if __name__ == "__main__":
    main()
