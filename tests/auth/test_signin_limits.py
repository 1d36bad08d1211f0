"""Failed sign-ins are limited per account (shared by every worker) and per address;
successful sign-ins are never slowed."""

import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.core.models import AuditEntry
from portal.extensions import db, limiter
from tests.conftest import PASSWORD, csrf_token_from, free_port, redis_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["database", "redis"])
def counter_backend(request):
    return request.param


@pytest.fixture
def config_overrides(request, counter_backend):
    return redis_config(request.getfixturevalue("redis_url")) if counter_backend == "redis" else {}


@pytest.fixture(autouse=True)
def fresh_address_limits(app):
    """Redis outlives the test: start every test with no per-address counts."""
    limiter.reset()


def test_sixth_wrong_attempt_on_one_account_is_refused(auth, make_user, counter_backend):
    doctor = make_user()
    statuses = [auth.login(doctor, password=f"wrong-{i}").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    # Even the right password is refused while the account is locked: guessing gains nothing.
    response = auth.login(doctor)
    assert response.status_code == 429
    assert "Слишком много неудачных попыток" in response.get_data(as_text=True)


def test_forty_doctors_sign_in_from_one_address_within_a_minute(app, make_user, make_clinic, counter_backend):
    clinic = make_clinic()
    doctors = [make_user(clinic=clinic) for _ in range(40)]
    from tests.conftest import Auth

    statuses = []
    for doctor in doctors:
        statuses.append(Auth(app.test_client()).login(doctor).status_code)
    assert statuses == [302] * 40
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sign_in")) == 40


def _http_sign_in(base_url, email, password):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    page = opener.open(base_url + "/sign-in", timeout=10).read().decode()
    body = urllib.parse.urlencode({"csrf_token": csrf_token_from(page), "email": email, "password": password}).encode()
    try:
        return opener.open(base_url + "/sign-in", data=body, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
def test_account_limit_holds_across_gunicorn_workers(app, database_url, make_user, counter_backend, config_overrides):
    """Four workers, fresh connections: wherever the attempts land, the sixth is refused."""
    email = make_user().email
    db.session.commit()  # end the test's transaction: on SQLite it would hold the write lock
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "workers-test",
        "PORTAL_LOG_REQUESTS": "0",
        "PATH": "/usr/bin:/bin",
    }
    if counter_backend == "redis":
        env["REDIS_URL"] = config_overrides["REDIS_URL"]
        env["PORTAL_CACHE_PREFIX"] = config_overrides["CACHE_KEY_PREFIX"]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "4",
            "--graceful-timeout",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, server)
        statuses = [_http_sign_in(base_url, email, f"wrong-{i}") for i in range(6)]
        assert statuses == [401] * 5 + [429]
        assert _http_sign_in(base_url, email, PASSWORD) == 429
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_until_up(base_url, process):
    deadline = time.monotonic() + 90  # four workers starting on a busy machine
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base_url + "/healthz", timeout=2)
            return
        except OSError:
            assert process.poll() is None, "gunicorn exited"
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def test_per_address_limit_counts_failures_only(app, make_user, make_clinic, counter_backend):
    clinic = make_clinic()
    app.config["SIGNIN_FAILURES_PER_ADDRESS"] = "3 per minute"
    from tests.conftest import Auth

    # Failures on three different accounts from one address exhaust the address limit ...
    for _ in range(3):
        assert Auth(app.test_client()).login(make_user(clinic=clinic), password="wrong-one").status_code == 401
    assert Auth(app.test_client()).login(make_user(clinic=clinic), password="wrong-one").status_code == 429


def test_successes_do_not_count_against_the_address(app, make_user, make_clinic, counter_backend):
    clinic = make_clinic()
    app.config["SIGNIN_FAILURES_PER_ADDRESS"] = "3 per minute"
    from tests.conftest import Auth

    for _ in range(6):
        assert Auth(app.test_client()).login(make_user(clinic=clinic)).status_code == 302
    assert Auth(app.test_client()).login(make_user(clinic=clinic), password="wrong-one").status_code == 401
