"""`make screenshots`: the README's pictures of the main pages, taken from the demo data.

Seeds the demo into a temporary SQLite database, serves the portal on loopback and saves
PNGs of each role's main pages with Playwright and Debian's Chromium into docs/screenshots/.
"""

import logging
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

DOCTOR, TRAINER, ADMIN, SUPERADMIN = (
    "doctor@dgp94.demo.portal",
    "trainer@dgp94.demo.portal",
    "admin@dgp94.demo.portal",
    "superadmin@demo.portal",
)

# (file name, demo user or None for the sign-in page, path, viewport, what to click open or None)
SHOTS = [
    ("sign-in", None, "/sign-in", WIDE, None),
    ("doctor-dashboard", DOCTOR, "/dashboard", WIDE, None),
    ("doctor-room-week", DOCTOR, "/booking", WIDE, None),  # one room in the clinic: its week opens
    ("doctor-my-bookings", DOCTOR, "/bookings", WIDE, None),
    ("doctor-trainings", DOCTOR, "/trainings", WIDE, None),
    ("doctor-user-menu", DOCTOR, "/search", WIDE, "#user-menu summary"),
    ("trainer-run-trainings", TRAINER, "/trainings/manage", WIDE, None),
    ("admin-clinic-overview", ADMIN, "/admin/", WIDE, "#menu-admin summary"),
    ("admin-usage-report", ADMIN, "/admin/", WIDE, ".nav-tabs a[href$='/usage']"),
    ("superadmin-city-view", SUPERADMIN, "/admin/city", WIDE, None),
    ("phone-doctor-room-day", DOCTOR, "/booking", PHONE, "a[href*='view=day']"),
    ("phone-doctor-menu", DOCTOR, "/dashboard", PHONE, "#main-nav-toggle"),
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


def take(browser, base_url):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, email, path, viewport, click in SHOTS:
        context = browser.new_context(locale="ru-RU", viewport=viewport)
        page = context.new_page()
        if email:
            sign_in(page, base_url, email)
        page.goto(base_url + path)
        if click:
            page.click(click)
            page.wait_for_load_state()
        page.screenshot(path=str(OUTPUT / f"{name}.png"))
        print(f"  {OUTPUT.relative_to(ROOT) / name}.png")
        context.close()


def main():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        sys.exit("Chromium is not installed: `make browser` installs Debian's package.")
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        os.environ.setdefault("PORTAL_INSTANCE_DIR", workdir)  # the development secret key goes there
        app = demo_app(Path(workdir) / "demo.sqlite3")
        with serving(app) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
            take(browser, base_url)
            browser.close()


if __name__ == "__main__":
    main()
