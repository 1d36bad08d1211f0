"""Sign-in with the city's identity provider: a real OpenID Connect provider on loopback
(discovery, JWKS, authorization form, token endpoint), the portal's Authlib client against it."""

import time as clock
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import SignInSession, User
from portal.booking import creating as booking_services
from portal.booking.models import Booking
from portal.core.db import utcnow
from portal.core.models import AuditEntry, Notification
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_token_from
from tests.oidc_provider import city_config, query_of

CLIENT_ID = "growth-room-portal"


@pytest.fixture
def config_overrides(city):
    return city_config(city)


@pytest.fixture
def clinic(make_clinic):
    return make_clinic(code="0194", name="Детская городская поликлиника № 94")


def start(client, next_path=None):
    answer = client.get("/sign-in/oidc" + (f"?next={next_path}" if next_path else ""))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def city_sign_in(client, city, sub, next_path=None):
    """The browser's round trip: portal → provider (signs in as `sub`) → the portal's callback."""
    return client.get(city.authorize(start(client, next_path), sub))


def anna(city, **claims):
    values = {
        "email": "Anna.Smirnova@mos.example",
        "email_verified": True,
        "name": "Анна Смирнова",
        "clinic_code": "0194",
    }
    values.update(claims)
    city.add_user("sub-anna", **values)


def users_count():
    return db.session.scalar(select(func.count()).select_from(User))


def signed_in(client):
    return client.get("/dashboard").status_code == 200


# --- the flow ------------------------------------------------------------------------------


def test_the_authorization_request_uses_pkce_state_and_nonce(client, city):
    url = start(client)
    params = query_of(url)
    assert url.startswith(city.url + "/oauth2/authorize?")
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "http://127.0.0.1:5000/sign-in/oidc/callback"
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    assert query_of(start(client))["state"] != params["state"]


def test_first_sign_in_creates_a_doctor_of_the_clinic_with_the_code(client, city, clinic):
    anna(city)
    answer = city_sign_in(client, city, "sub-anna", next_path="/bookings")
    assert answer.status_code == 302 and answer.headers["Location"] == "/bookings"
    user = db.session.scalar(select(User).where(User.oidc_subject == "sub-anna"))
    assert (user.email, user.full_name, user.clinic_id, user.roles) == (
        "anna.smirnova@mos.example",
        "Анна Смирнова",
        clinic.id,
        ["doctor"],
    )
    assert "Анна Смирнова" in client.get("/dashboard").get_data(as_text=True)
    session_row = db.session.scalar(select(SignInSession).where(SignInSession.user_id == user.id))
    assert session_row.id_token.count(".") == 2  # kept on the server for the end-session hint
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == user.id)).all()
    assert "sign_in" in actions


def test_a_later_sign_in_updates_the_name_and_creates_nobody(client, city, clinic):
    anna(city)
    city_sign_in(client, city, "sub-anna")
    client.post("/sign-out", data={"csrf_token": csrf_token_from(client.get("/dashboard").get_data(as_text=True))})
    anna(city, name="Анна Петровна Смирнова")
    city_sign_in(client, city, "sub-anna")
    assert users_count() == 1
    assert db.session.scalar(select(User.full_name)) == "Анна Петровна Смирнова"


def test_a_doctor_who_moved_moves_and_loses_future_bookings_in_the_former_clinic(
    client, city, clinic, make_clinic, make_room, make_workstation, make_user
):
    user = make_user(["doctor", "trainer"], clinic=clinic, email="anna.smirnova@mos.example", oidc_subject="sub-anna")
    workstation = make_workstation(room=make_room(clinic=clinic))
    tomorrow = to_local(utcnow(), "Europe/Moscow").date() + timedelta(days=1)
    start_at = local_to_utc(datetime.combine(tomorrow, time(10)), "Europe/Moscow")
    booking = booking_services.create_booking(
        user, workstation=workstation, start=start_at, end=start_at + timedelta(hours=1), now=utcnow()
    )
    db.session.commit()
    new_clinic = make_clinic(code="0071", name="Детская городская поликлиника № 71")
    anna(city, clinic_code="0071")

    assert city_sign_in(client, city, "sub-anna").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).clinic_id == new_clinic.id
    assert db.session.get(User, user.id).roles == ["doctor"]  # the trainer role was the former clinic's
    cancelled = db.session.get(Booking, booking.id)
    assert cancelled.status == "cancelled"
    notice = db.session.scalar(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == "booking_cancelled")
    )
    assert "другой поликлинике" in notice.body


@pytest.mark.parametrize("claims", [{"clinic_code": "9999"}, {"clinic_code": None}])
def test_an_unknown_or_missing_clinic_code_gets_a_clear_page_and_no_account(client, city, clinic, claims):
    anna(city, **claims)
    answer = city_sign_in(client, city, "sub-anna")
    assert answer.status_code == 403
    assert "ваша поликлиника ещё не подключена" in answer.get_data(as_text=True).lower()
    assert users_count() == 0
    assert not signed_in(client)


def test_a_deactivated_clinic_is_not_connected(client, city, make_clinic):
    make_clinic(code="0194", active=False)
    anna(city)
    answer = city_sign_in(client, city, "sub-anna")
    assert answer.status_code == 403 and users_count() == 0


def test_a_local_account_is_linked_when_the_provider_verified_the_email(client, city, clinic, make_user):
    local = make_user(["doctor", "admin"], clinic=clinic, email="anna.smirnova@mos.example", full_name="Смирнова А.")
    anna(city)
    assert city_sign_in(client, city, "sub-anna").status_code == 302
    db.session.expire_all()
    linked = db.session.get(User, local.id)
    assert (linked.oidc_subject, linked.full_name, linked.roles) == ("sub-anna", "Анна Смирнова", ["admin", "doctor"])
    assert users_count() == 1


def test_a_local_account_is_not_linked_without_a_verified_email(client, city, clinic, make_user):
    local = make_user(clinic=clinic, email="anna.smirnova@mos.example")
    anna(city, email_verified=False)
    answer = city_sign_in(client, city, "sub-anna")
    assert answer.status_code == 401
    assert "не подтвердила" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, local.id).oidc_subject is None
    assert users_count() == 1 and not signed_in(client)


def test_an_email_already_joined_to_another_city_account_is_not_joined_again(client, city, clinic, make_user):
    make_user(clinic=clinic, email="anna.smirnova@mos.example", oidc_subject="sub-other")
    anna(city)
    answer = city_sign_in(client, city, "sub-anna")
    assert answer.status_code == 401
    assert "другой городской учётной записи" in answer.get_data(as_text=True)
    assert users_count() == 1 and not signed_in(client)


def test_a_deactivated_account_cannot_sign_in_with_the_city_account(client, city, clinic, make_user):
    make_user(clinic=clinic, email="anna.smirnova@mos.example", oidc_subject="sub-anna", active=False)
    anna(city)
    answer = city_sign_in(client, city, "sub-anna")
    assert answer.status_code == 401 and not signed_in(client)


# --- refusals of a forged or replayed answer --------------------------------------------------


def test_a_tampered_state_is_refused(client, city, clinic):
    anna(city)
    callback = city.authorize(start(client), "sub-anna")
    state = query_of(callback)["state"]
    answer = client.get(callback.replace(f"state={state}", "state=forged-state-value"))
    assert answer.status_code == 400
    assert users_count() == 0 and not signed_in(client)


def test_an_answer_for_another_browser_is_refused(app, client, city, clinic):
    anna(city)
    callback = city.authorize(start(client), "sub-anna")
    other_browser = app.test_client()
    assert other_browser.get(callback).status_code == 400
    assert users_count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"nonce": "another-nonce"}, id="wrong nonce"),
        pytest.param({"exp": int(clock.time()) - 3600, "iat": int(clock.time()) - 7200}, id="expired"),
        pytest.param({"aud": "another-client"}, id="foreign audience"),
        pytest.param({"iss": "https://sudir.example"}, id="other issuer"),
    ],
)
def test_a_wrong_id_token_is_refused(client, city, clinic, changes):
    anna(city)
    city.next_id_token(**changes)
    answer = city_sign_in(client, city, "sub-anna")
    assert answer.status_code == 400
    assert "не удалось" in answer.get_data(as_text=True)
    assert users_count() == 0 and not signed_in(client)


def test_an_id_token_signed_by_another_key_is_refused(client, city, clinic):
    anna(city)
    city.next_id_token(foreign_key=True)
    assert city_sign_in(client, city, "sub-anna").status_code == 400
    assert users_count() == 0


def test_the_provider_being_down_is_a_clear_page(app, client, city):
    city.stop()
    answer = client.get("/sign-in/oidc")
    assert answer.status_code == 502
    assert "сейчас недоступна" in answer.get_data(as_text=True)


# --- the sign-in page and signing out ----------------------------------------------------------


def test_the_button_is_shown_next_to_the_local_form(client, city):
    answer = client.get("/sign-in")
    html = answer.get_data(as_text=True)
    # Signing out posts a form that continues at the provider: the policy lets forms go there.
    assert f"form-action 'self' {city.url};" in answer.headers["Content-Security-Policy"]
    assert "Войти через городскую учётную запись" in html
    assert 'name="password"' in html and "<details" not in html


@pytest.mark.parametrize("config_overrides", [{}], indirect=False)
def test_without_an_issuer_there_is_no_button_and_no_flow(client):
    assert "городскую учётную запись" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


def test_signing_out_ends_the_provider_session_too(client, city, clinic):
    anna(city)
    city_sign_in(client, city, "sub-anna")
    id_token = db.session.scalar(select(SignInSession.id_token))
    answer = client.post(
        "/sign-out", data={"csrf_token": csrf_token_from(client.get("/dashboard").get_data(as_text=True))}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(city.url + "/oauth2/end_session?")
    params = query_of(answer.headers["Location"])
    assert params["id_token_hint"] == id_token
    assert params["post_logout_redirect_uri"] == "http://127.0.0.1:5000/sign-in"
    assert params["client_id"] == CLIENT_ID
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 0
    assert not signed_in(client)


def test_signing_out_after_a_local_sign_in_stays_in_the_portal(client, auth, make_user):
    auth.login(make_user())
    answer = auth.logout()
    assert answer.headers["Location"] == "/sign-in"


class TestDoctorsOnlyWithTheCityAccount:
    @pytest.fixture
    def config_overrides(self, city):
        return city_config(city, LOCAL_SIGN_IN="staff")

    def test_the_local_form_is_folded_away(self, client):
        html = client.get("/sign-in").get_data(as_text=True)
        assert '<details class="mb-3" id="local-sign-in-details">' in html
        assert html.index("city-sign-in") < html.index("local-sign-in-details")

    def test_a_doctor_is_sent_to_the_city_account(self, auth, make_user):
        answer = auth.login(make_user("doctor"))
        assert answer.status_code == 401
        assert "городской учётной записью" in answer.get_data(as_text=True)

    def test_an_invited_trainer_signs_in_locally(self, auth, make_user):
        assert auth.login(make_user("trainer"), PASSWORD).status_code == 302
