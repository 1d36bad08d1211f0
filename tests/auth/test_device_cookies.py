"""OWASP's device cookies: strangers guessing a doctor's password lock out only unknown browsers, never
the doctor's own computer; a room of twelve computers behind one address keeps signing in; every 429
says when to come back."""

import base64
import json

import pytest

from portal.extensions import limiter
from tests.conftest import Auth


@pytest.fixture(autouse=True)
def fresh_address_limits(app):
    limiter.reset()


def _guess(app, user, times):
    return [Auth(app.test_client()).login(user, password=f"guess-{n}-wrong").status_code for n in range(times)]


def test_a_browser_the_doctor_used_before_signs_in_while_strangers_have_locked_the_account(app, make_user):
    doctor = make_user()
    own_computer = Auth(app.test_client())
    assert own_computer.login(doctor).status_code == 302
    own_computer.logout()

    strangers = _guess(app, doctor, 6)
    locked_out = Auth(app.test_client()).login(doctor)
    back_at_work = own_computer.login(doctor)

    assert strangers == [401] * 5 + [429]
    assert locked_out.status_code == 429 and int(locked_out.headers["Retry-After"]) > 0
    assert back_at_work.status_code == 302


def test_a_trusted_browser_that_keeps_failing_loses_its_trust_alone(app, make_user):
    doctor = make_user()
    shared_computer = Auth(app.test_client())
    assert shared_computer.login(doctor).status_code == 302
    shared_computer.logout()

    statuses = [shared_computer.login(doctor, password=f"guess-{n}-wrong").status_code for n in range(6)]
    elsewhere = Auth(app.test_client()).login(doctor)

    assert statuses == [401] * 5 + [429]
    assert elsewhere.status_code == 302  # unknown browsers have their own count, still clean


def test_a_room_behind_one_address_signs_in_after_thirty_failures_from_it(app, make_user, make_clinic):
    app.config["SIGNIN_FAILURES_PER_ADDRESS"] = "3 per minute"
    clinic = make_clinic()
    regulars = [make_user(clinic=clinic) for _ in range(3)]
    computers = [Auth(app.test_client()) for _ in regulars]
    for computer, doctor in zip(computers, regulars, strict=True):
        assert computer.login(doctor).status_code == 302
        computer.logout()

    failures = [
        Auth(app.test_client()).login(make_user(clinic=clinic), password="guess-wrong-1").status_code for _ in range(4)
    ]
    newcomer = Auth(app.test_client()).login(make_user(clinic=clinic))
    regulars_again = [computer.login(doctor).status_code for computer, doctor in zip(computers, regulars, strict=True)]

    assert failures == [401, 401, 401, 429]
    assert newcomer.status_code == 429 and int(newcomer.headers["Retry-After"]) == 60
    assert regulars_again == [302, 302, 302]


def test_the_device_cookie_names_no_one(app, make_user, client):
    doctor = make_user()
    Auth(client).login(doctor)
    cookie = client.get_cookie("device")
    payload = cookie.value.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()

    assert cookie.http_only and cookie.same_site == "Lax"
    assert doctor.email not in decoded and doctor.email.split("@")[0] not in decoded
    assert len(json.loads(decoded)) == 1


def test_a_forged_device_cookie_is_an_unknown_browser(app, make_user, client):
    doctor = make_user()
    _guess(app, doctor, 6)
    client.set_cookie("device", "W1siYWJjIiwgIm5vbmNlIl1d.forged")
    assert Auth(client).login(doctor).status_code == 429


def test_the_api_token_lockout_says_when_to_come_back(client, make_user):
    doctor = make_user()
    answers = [
        client.post("/api/v1/tokens", json={"email": doctor.email, "password": f"guess-{n}-wrong"}) for n in range(6)
    ]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    assert answers[-1].get_json()["error"]["code"] == "too_many_attempts"
    assert int(answers[-1].headers["Retry-After"]) == 15 * 60
