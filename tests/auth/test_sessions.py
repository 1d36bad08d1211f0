"""Server-side sessions: sign-out, deactivation, password change and idle time end them everywhere."""

from datetime import timedelta

import pytest

from portal.auth import services
from portal.extensions import db
from tests.conftest import PASSWORD


def copy_cookies(source, target):
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_a_cookie_copied_before_sign_out_no_longer_works(app, auth, client, make_user):
    auth.login(make_user())
    thief = app.test_client()
    copy_cookies(client, thief)
    assert thief.get("/dashboard").status_code == 200
    auth.logout()
    response = thief.get("/dashboard")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_deactivating_a_user_ends_their_sessions(auth, client, make_user):
    doctor = make_user()
    auth.login(doctor)
    services.set_active(None, doctor, False)
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    response = auth.login(doctor)
    assert response.status_code == 401
    assert "отключена" in response.get_data(as_text=True)


def test_changing_the_password_ends_other_sessions_but_keeps_this_one(app, auth, client, make_user):
    doctor = make_user()
    auth.login(doctor)
    other_computer = app.test_client()
    Auth = type(auth)
    Auth(other_computer).login(doctor)
    response = client.post(
        "/account",
        data={
            "csrf_token": auth.csrf_token("/account"),
            "current_password": PASSWORD,
            "password": "a-brand-new-password",
            "confirm": "a-brand-new-password",
        },
    )
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert other_computer.get("/dashboard").status_code == 302


def test_change_password_form_shows_field_errors(auth, client, make_user):
    auth.login(make_user())
    response = client.post(
        "/account",
        data={
            "csrf_token": auth.csrf_token("/account"),
            "current_password": "wrong-password",
            "password": "short",
            "confirm": "other",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Пароль должен быть не короче 10 символов" in page
    assert "Пароли не совпадают" in page


def test_an_idle_session_ends_on_the_server(app, auth, client, make_user, time_machine):
    signed_in_at = services.utcnow()
    time_machine.move_to(signed_in_at, tick=False)
    auth.login(make_user())
    same_cookie_elsewhere = app.test_client()
    copy_cookies(client, same_cookie_elsewhere)
    idle_limit = timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])

    time_machine.shift(idle_limit - timedelta(minutes=1))
    still_signed_in = client.get("/dashboard")
    time_machine.shift(idle_limit + timedelta(minutes=1))
    idle_too_long = client.get("/dashboard")
    time_machine.move_to(signed_in_at)
    # The cookie as it was at sign-in, shown again at that moment: the session itself has ended.
    replayed = same_cookie_elsewhere.get("/dashboard")

    assert still_signed_in.status_code == 200
    assert idle_too_long.status_code == 302 and "/sign-in" in idle_too_long.headers["Location"]
    assert replayed.status_code == 302 and "/sign-in" in replayed.headers["Location"]


def test_session_cookie_is_httponly_and_samesite(auth, client, make_user):
    response = auth.login(make_user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_set_password_link_works_once(app, client, make_user):
    user = make_user()
    token = services.set_password_token(user)
    db.session.commit()
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 200
    from tests.conftest import csrf_token_from

    response = client.post(
        f"/set-password/{token}",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "password": "my-own-new-password",
            "confirm": "my-own-new-password",
        },
    )
    assert response.status_code == 302
    assert client.get(f"/set-password/{token}").status_code == 404


def test_a_session_ends_after_its_absolute_lifetime_even_when_used_all_day(app, auth, client, make_user, time_machine):
    signed_in_at = services.utcnow()
    time_machine.move_to(signed_in_at, tick=False)
    auth.login(make_user())
    lifetime = timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])
    statuses = []
    for _ in range(int(lifetime / timedelta(minutes=10)) - 1):  # a click every ten minutes: never idle
        time_machine.shift(timedelta(minutes=10))
        statuses.append(client.get("/dashboard").status_code)
    time_machine.move_to(signed_in_at + lifetime + timedelta(minutes=1))
    too_old = client.get("/dashboard")

    assert set(statuses) == {200}
    assert too_old.status_code == 302 and "/sign-in" in too_old.headers["Location"]


def test_session_rows_past_their_lifetime_are_purged(app, auth, make_user, time_machine):
    from sqlalchemy import func, select

    from portal.auth.models import SignInSession

    started = services.utcnow()
    time_machine.move_to(started, tick=False)
    doctor, other = make_user(), make_user()
    auth.login(doctor)
    type(auth)(app.test_client()).login(other)
    time_machine.move_to(started + timedelta(hours=app.config["SESSION_LIFETIME_HOURS"], minutes=1))

    type(auth)(app.test_client()).login(doctor)  # a new sign-in clears the user's own expired rows
    after_sign_in = db.session.scalar(select(func.count()).select_from(SignInSession))
    purged = services.purge_expired_sessions(services.utcnow())
    db.session.commit()

    assert after_sign_in == 2  # the doctor's fresh session and the other's expired one
    assert purged == 1
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 1


def test_changing_the_password_revokes_the_users_api_tokens(auth, client, make_user, api_as):
    doctor = make_user()
    api = api_as(doctor)
    assert api.get("/api/v1/me").status_code == 200
    auth.login(doctor)
    client.post(
        "/account",
        data={
            "csrf_token": auth.csrf_token("/account"),
            "current_password": PASSWORD,
            "password": "a-brand-new-password",
            "confirm": "a-brand-new-password",
        },
    )

    revoked = api.get("/api/v1/me")
    assert revoked.status_code == 401 and revoked.get_json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    "password, reason",
    [
        ("1234567890", "самых распространённых"),
        ("password12", "самых распространённых"),
        ("qwertyuiop", "самых распространённых"),
        ("aaaaaaaaaaaa", "Повторяющиеся символы"),
        ("zxcvbnmasdfgh", "самых распространённых"),
        ("abcdefghijklmnop", "Последовательности"),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason_in_russian(auth, client, make_user, password, reason):
    auth.login(make_user())
    response = client.post(
        "/account",
        data={
            "csrf_token": auth.csrf_token("/account"),
            "current_password": PASSWORD,
            "password": password,
            "confirm": password,
        },
    )
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_a_password_made_of_ones_own_name_is_refused(auth, client, make_user):
    auth.login(make_user(full_name="Снежана Всеволодовна Кондратенко", email="kondratenko@example.org"))
    response = client.post(
        "/account",
        data={
            "csrf_token": auth.csrf_token("/account"),
            "current_password": PASSWORD,
            "password": "kondratenko2026",
            "confirm": "kondratenko2026",
        },
    )
    assert response.status_code == 400
    assert "имя или адрес почты" in response.get_data(as_text=True)


def test_pages_within_half_a_minute_leave_the_session_cookie_as_it_is(auth, client, make_user, time_machine):
    time_machine.move_to(services.utcnow(), tick=False)
    auth.login(make_user())
    client.get("/dashboard")

    time_machine.shift(timedelta(seconds=20))
    soon = client.get("/dashboard")
    time_machine.shift(timedelta(seconds=20))
    later = client.get("/dashboard")

    assert soon.status_code == later.status_code == 200
    assert "Set-Cookie" not in soon.headers and "Set-Cookie" in later.headers
