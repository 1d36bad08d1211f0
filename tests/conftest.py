"""Shared fixtures: a fresh app per test on SQLite or PostgreSQL, factories, sign-in helpers,
and the real parts (SMTP server with the mail outbox's delivery, live HTTP server, headless Chromium).

The schema is built once per run by the migrations (so tests exercise them);
after each test every table is emptied, which also lets tests that race many
threads or processes on real commits share the same fixtures.

On SQLite a transaction of the test's own session holds the write lock: a test
that reads through `db.session` and then lets another thread or process write
(live server, browser, races) calls `db.session.commit()` first.
"""

import contextlib
import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from datetime import time
from time import monotonic, sleep

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from werkzeug.serving import make_server

from config import TestingConfig
from portal import create_app
from portal.extensions import db, limiter

IN_CI = os.environ.get("CI") == "true"
PASSWORD = "correct-horse-battery"


def require_part(available, name, why=""):
    """Outside CI a test may skip when a part is missing, saying which; under CI=true it fails."""
    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(message + " (CI must provide it)")
    pytest.skip(message)  # justified: only outside CI, and only for a missing external part, named


# --- no real network ---------------------------------------------------------------------

_real_connect = socket.socket.connect


def _loopback_only_connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if not (host in ("localhost", "::1") or host.startswith("127.")):
            raise RuntimeError(f"tests must not reach the network (tried {host})")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True, scope="session")
def no_external_network():
    socket.socket.connect = _loopback_only_connect
    yield
    socket.socket.connect = _real_connect


# --- runs side by side -------------------------------------------------------------------

# .ci/run runs the SQLite and the PostgreSQL suite at once and gives both this directory: a test marked
# timed (it measures request rates in wall-clock time) then runs alone, the other run waiting between
# its tests, so that the other run's load never decides whether it passes.
RUNS_LOCK_DIR = os.environ.get("PORTAL_TEST_RUNS_LOCK_DIR")


@pytest.fixture(autouse=True)
def timed_tests_alone_across_runs(request):
    if not RUNS_LOCK_DIR:
        yield
        return
    alone = request.node.get_closest_marker("timed") is not None
    with (
        open(os.path.join(RUNS_LOCK_DIR, "turnstile"), "a") as turnstile,
        open(os.path.join(RUNS_LOCK_DIR, "tests"), "a") as tests,
    ):
        # A waiting timed test holds the turnstile, so the other run starts no new test meanwhile.
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if alone:
            fcntl.flock(tests, fcntl.LOCK_EX)
        fcntl.flock(turnstile, fcntl.LOCK_UN)
        if not alone:
            fcntl.flock(tests, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(tests, fcntl.LOCK_UN)


# --- database and app --------------------------------------------------------------------


def _database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal-test.sqlite3")


def make_config(database_url, **overrides):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def redis_config(redis_url):
    """Settings for an app that keeps its cache and limits in Redis, as config.py sets them from
    REDIS_URL, under a key prefix of its own: other test runs share this Redis and reuse ids."""
    prefix = f"test-{uuid.uuid4().hex}:"
    return {
        "REDIS_URL": redis_url,
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix + "limits",
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Migrate an empty database once for the whole run."""
    from flask_migrate import downgrade, upgrade

    url = _database_url(tmp_path_factory)
    app = create_app(make_config(url))
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            # Commits stay atomic and isolated, only not flushed to disk before they return: a test
            # database need not outlive a crash, and the suite commits tens of thousands of times.
            database = db.session.scalar(text("SELECT quote_ident(current_database())"))
            db.session.execute(text(f"ALTER DATABASE {database} SET synchronous_commit = off"))
            db.session.commit()
        upgrade()
        db.session.remove()
        db.engine.dispose()
    yield url
    with app.app_context():
        db.session.remove()
        if url.startswith("postgresql"):
            downgrade(revision="base")
        db.engine.dispose()


def empty_all_tables():
    db.session.rollback()
    existing = set(inspect(db.engine).get_table_names())
    tables = [table.name for table in reversed(db.metadata.sorted_tables) if table.name in existing]
    # DELETE, children first: on the few rows a test leaves it is ten times faster than TRUNCATE.
    for name in tables:
        db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture
def config_overrides():
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


class RequestPerContextClient(FlaskClient):
    """Each request gets its own app context (fresh `g`, its own database session), as in a real worker.

    The test's own session commits first: on SQLite an open transaction of the
    test would hold the write lock the request needs.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, config_overrides):
    app = create_app(make_config(database_url, **config_overrides))
    app.test_client_class = RequestPerContextClient
    # Flask-Limiter's extension object outlives an app: a Redis timeout seen by an earlier test's app
    # would leave this one counting in the in-process fallback. Each test starts on its own storage.
    limiter._storage_dead = False
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_app(database_url):
    """make_app(**settings) → another app on the test database, as another worker or machine would be;
    its connections are closed after the test."""
    made = []

    def make(**overrides):
        other = create_app(make_config(database_url, **overrides))
        other.test_client_class = RequestPerContextClient
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def at_once(app, work, threads=2):
    """Run `work()` in several threads started together, each in its own app context (its own
    database session, as in separate workers); returns their results."""
    start = threading.Barrier(threads)
    results = []

    def run():
        with app.app_context():
            start.wait()
            results.append(work())
            db.session.remove()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=60)
    return results


# --- factories ----------------------------------------------------------------------------


@pytest.fixture
def make_clinic(app):
    from portal.clinics.models import Clinic

    counter = iter(range(1, 10_000))

    def make(**overrides):
        number = next(counter)
        values = {
            "name": f"Детская поликлиника № {number}",
            "short_name": f"ДП-{number}",
            "timezone": "Europe/Moscow",
            "address": "",
        }
        values.update(overrides)
        clinic = Clinic(**values)
        db.session.add(clinic)
        db.session.commit()
        return clinic

    return make


@pytest.fixture
def make_room(app, make_clinic):
    """A room open every day 08:00–20:00 local time unless `hours` says otherwise."""
    from portal.clinics.models import OpeningHours, Room

    counter = iter(range(1, 10_000))

    def make(clinic=None, hours=((time(8), time(20)),), weekdays=range(7), **overrides):
        values = {"name": f"Кабинет {next(counter)}", "location": "2 этаж", "capacity": 12}
        values.update(overrides)
        room = Room(clinic=clinic or make_clinic(), **values)
        for weekday in weekdays:
            for opens, closes in hours:
                room.opening_hours.append(OpeningHours(weekday=weekday, opens=opens, closes=closes))
        db.session.add(room)
        db.session.commit()
        return room

    return make


@pytest.fixture
def make_workstation(app, make_room):
    from portal.clinics.models import Workstation

    counter = iter(range(1, 10_000))

    def make(room=None, **overrides):
        values = {"label": f"ПК-{next(counter)}", "specs": "", "status": "active"}
        values.update(overrides)
        workstation = Workstation(room=room or make_room(), **values)
        db.session.add(workstation)
        db.session.commit()
        return workstation

    return make


@pytest.fixture
def make_user(app, make_clinic):
    """make_user(role="doctor" | [roles], clinic=...) → a committed user with password PASSWORD."""
    from portal.auth.models import User

    counter = iter(range(1, 100_000))

    def make(role="doctor", clinic=None, password=PASSWORD, **overrides):
        roles = [role] if isinstance(role, str) else list(role)
        number = next(counter)
        if clinic is None and roles != ["superadmin"]:
            clinic = make_clinic()
        values = {"email": f"user{number}@example.org", "full_name": f"Иван Иванович Тестов {number}", "clinic": clinic}
        values.update(overrides)
        user = User(**values)
        user.set_roles(roles)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


# --- signing in ---------------------------------------------------------------------------


def csrf_token_from(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password=PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        page = self.client.get("/sign-in")
        return self.client.post(
            "/sign-in",
            data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "email": email, "password": password},
        )

    def csrf_token(self, path="/dashboard"):
        return csrf_token_from(self.client.get(path).get_data(as_text=True))

    def logout(self):
        return self.client.post("/sign-out", data={"csrf_token": self.csrf_token()})


@pytest.fixture
def auth(client):
    return Auth(client)


class ApiClient:
    """A test client that sends a bearer token with every request."""

    def __init__(self, client, token):
        self.client = client
        self.token = token

    def _headers(self, kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self._headers(kwargs), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(kwargs), **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.client.patch(path, json=json, headers=self._headers(kwargs), **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.client.put(path, json=json, headers=self._headers(kwargs), **kwargs)

    def delete(self, path, **kwargs):
        return self.client.delete(path, headers=self._headers(kwargs), **kwargs)


@pytest.fixture
def api_as(app):
    """api_as(user) → an ApiClient authenticated by a fresh API token of that user."""
    from portal.auth import services

    def make(user):
        _token, raw = services.issue_token(user, "test")
        db.session.commit()
        return ApiClient(app.test_client(), raw)

    return make


# --- real parts: SMTP, live server, browser --------------------------------------------------


class SmtpServer:
    """A real SMTP server on loopback; `.messages` holds what it received. `stop()` and `start()`
    take it away and bring it back on the same port, as in an outage."""

    def __init__(self):
        self.messages = []
        self.port = free_port()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def start(self):
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        self._controller.stop()
        self._controller = None

    @property
    def running(self):
        return self._controller is not None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    if server.running:
        server.stop()


@pytest.fixture
def deliver_mail(app):
    """deliver_mail(now=None) → runs the mail outbox once, as the worker does, and returns what it did."""
    from portal.core import mail
    from portal.core.db import utcnow

    def deliver(now=None):
        db.session.commit()
        return mail.deliver_due(app.config, now=now or utcnow())

    return deliver


@contextlib.contextmanager
def serving(app):
    """`app` served over real HTTP on loopback, in a thread; the server has its `url`."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    """The test's app served over real HTTP on loopback, in a thread."""
    with serving(app) as server:
        yield server


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    require_part(executable, "Chromium", "install Debian's chromium package (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, tmp_path):
    context = chromium.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
    context.close()


def browser_sign_in(page, live_server, email, password=PASSWORD):
    page.goto(live_server.url + "/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]:not([name=lang])")
    page.wait_for_url(re.compile(r".*/dashboard"))


def open_user_menu(page):
    """The user's menu holds their account, notifications, the language and signing out."""
    if page.locator("#user-menu[open]").count() == 0:
        page.click("#user-menu summary")


def browser_sign_out(page):
    open_user_menu(page)
    page.click("#sign-out")
    page.wait_for_url("**/sign-in")


@pytest.fixture
def city():
    """A real OpenID Connect provider on loopback: the city's identity service (tests/oidc_provider.py)."""
    from tests.oidc_provider import CityProvider

    provider = CityProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def redis_url():
    """A reachable Redis (127.0.0.1:6379 unless TEST_REDIS_URL says otherwise)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        reachable = True
    except redis.RedisError:
        reachable = False
    require_part(reachable, "Redis", url)
    return url


@contextlib.contextmanager
def gunicorn_servers(env, *, count=2, workers=1):
    """`count` gunicorn instances of the portal on loopback ports, like machines behind a proxy; yields their
    base URLs once each answers /healthz, and stops them afterwards."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def wait_until_up(url, seconds=60):
    deadline = monotonic() + seconds
    while monotonic() < deadline:
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        sleep(0.2)
    pytest.fail(f"{url} did not come up")
