"""The API's base: authentication, error shape, tokens, /me, clinics and users."""

import pytest
from openapi_spec_validator import validate

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import PASSWORD


def assert_error(response, status, code=None):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_openapi_document_is_valid_and_lists_the_base_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    for path in ("/me", "/tokens", "/tokens/current", "/clinics", "/users", "/clinics/{clinic_id}/rooms"):
        assert path in document["paths"]


def test_unknown_path_and_wrong_method_answer_in_the_error_shape(api_as, make_user):
    api = api_as(make_user())
    assert_error(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(api.put("/api/v1/me", json={}), 405, "method_not_allowed")


def test_no_credentials_is_401(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


def test_bad_token_is_401_even_with_a_valid_session(auth, client, make_user):
    auth.login(make_user())
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}), 401, "invalid_token")


def test_token_from_the_cli_works_until_revoked(app, make_user):
    user = make_user(full_name="Ольга Смирнова")
    email = user.email
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "create-token", "--email", email])
    assert result.exit_code == 0
    token = result.output.strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["name"] == "Ольга Смирнова"
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/me", headers=headers), 401, "invalid_token")


def test_token_by_password_is_shown_once_and_stored_hashed(client, make_user):
    user = make_user()
    response = client.post("/api/v1/tokens", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    from portal.auth.models import ApiToken

    stored = db.session.scalars(db.select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"email": "a@b.c"},
        {"email": 5, "password": "x"},
        {"email": "nobody@example.org", "password": "whatever-password"},
    ],
)
def test_token_request_with_bad_input_is_a_clear_error(client, body):
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code in (400, 401)
    assert_error(response, response.status_code)


def test_deactivated_users_token_stops_working(api_as, make_user):
    from portal.auth import services

    user = make_user()
    api = api_as(user)
    services.set_active(None, user, False)
    db.session.commit()
    assert_error(api.get("/api/v1/me"), 401)


def test_me_describes_the_caller(api_as, make_user, make_clinic):
    clinic = make_clinic(short_name="ДГП-7")
    api = api_as(make_user(role=["doctor", "trainer"], clinic=clinic, full_name="Пётр Лекторов"))
    body = api.get("/api/v1/me").get_json()
    assert body["name"] == "Пётр Лекторов"
    assert body["roles"] == ["doctor", "trainer"]
    assert body["clinic"]["short_name"] == "ДГП-7"


def test_cookie_caller_must_send_the_csrf_token_on_writes(auth, client, make_user):
    auth.login(make_user(role="superadmin"))
    body = {"name": "Поликлиника", "short_name": "П-1"}
    assert_error(client.post("/api/v1/clinics", json=body), 401, "csrf_failed")
    response = client.post("/api/v1/clinics", json=body, headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code == 201


class TestClinics:
    def test_superadmin_creates_a_clinic(self, api_as, make_user):
        api = api_as(make_user(role="superadmin"))
        response = api.post(
            "/api/v1/clinics", json={"name": "ДГП № 1", "short_name": "ДГП-1", "timezone": "Asia/Yekaterinburg"}
        )
        assert response.status_code == 201
        body = response.get_json()
        assert body["id"] and body["timezone"] == "Asia/Yekaterinburg"

    def test_admin_cannot_create_a_clinic(self, api_as, make_user):
        assert_error(
            api_as(make_user(role="admin")).post("/api/v1/clinics", json={"name": "X", "short_name": "X"}), 403
        )

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"short_name": "A"}, "name"),
            ({"name": "A", "short_name": ""}, "short_name"),
            ({"name": "A", "short_name": "B", "timezone": "Mars/Olympus"}, "timezone"),
            ({"name": ["A"], "short_name": "B"}, "name"),
        ],
    )
    def test_bad_clinic_input_names_the_field_and_saves_nothing(self, api_as, make_user, body, field):
        from portal.clinics.models import Clinic

        error = assert_error(api_as(make_user(role="superadmin")).post("/api/v1/clinics", json=body), 400)
        assert error["field"] == field
        assert db.session.scalar(db.select(db.func.count()).select_from(Clinic)) == 0

    def test_duplicate_short_name_is_a_field_error(self, api_as, make_user, make_clinic):
        make_clinic(short_name="ДГП-2")
        error = assert_error(
            api_as(make_user(role="superadmin")).post(
                "/api/v1/clinics", json={"name": "Другая", "short_name": "ДГП-2"}
            ),
            400,
            "short_name_taken",
        )
        assert error["field"] == "short_name"

    def test_users_see_only_their_clinic(self, api_as, make_user, make_clinic):
        mine, other = make_clinic(), make_clinic()
        api = api_as(make_user(clinic=mine))
        assert [c["id"] for c in api.get("/api/v1/clinics").get_json()["items"]] == [mine.id]
        assert_error(api.get(f"/api/v1/clinics/{other.id}/rooms"), 404)


class TestUsers:
    def test_admin_creates_a_doctor_of_their_clinic(self, api_as, make_user, make_clinic):
        clinic = make_clinic()
        api = api_as(make_user(role="admin", clinic=clinic))
        response = api.post(
            "/api/v1/users",
            json={
                "email": "New.Doctor@Example.org",
                "full_name": "Новый Врач",
                "role": "doctor",
                "password": "long-enough-pass",
            },
        )
        assert response.status_code == 201
        body = response.get_json()
        assert body["email"] == "new.doctor@example.org" and body["clinic"]["id"] == clinic.id

    def test_admin_cannot_reach_another_clinic(self, api_as, make_user, make_clinic):
        api = api_as(make_user(role="admin"))
        other = make_clinic()
        assert_error(
            api.post(
                "/api/v1/users",
                json={"email": "x@example.org", "full_name": "X", "role": "doctor", "clinic_id": other.id},
            ),
            404,
        )

    def test_admin_never_grants_superadmin(self, api_as, make_user):
        api = api_as(make_user(role="admin"))
        assert_error(
            api.post("/api/v1/users", json={"email": "x@example.org", "full_name": "X", "role": "superadmin"}), 403
        )
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1

    def test_doctor_cannot_create_users(self, api_as, make_user):
        assert_error(
            api_as(make_user()).post(
                "/api/v1/users", json={"email": "x@example.org", "full_name": "X", "role": "doctor"}
            ),
            403,
        )

    @pytest.mark.parametrize(
        "body, code",
        [
            ({"email": "not-an-email", "full_name": "X", "role": "doctor"}, "invalid_email"),
            ({"email": "x@example.org", "full_name": "", "role": "doctor"}, "invalid_name"),
            ({"email": "x@example.org", "full_name": "X", "role": "chief"}, "invalid_role"),
            ({"email": "x@example.org", "full_name": "X", "role": "doctor", "password": "short"}, "weak_password"),
            ({"email": "x@example.org", "full_name": "X", "role": 3}, "invalid_field"),
        ],
    )
    def test_bad_user_input_is_a_clear_error(self, api_as, make_user, body, code):
        assert_error(api_as(make_user(role="admin")).post("/api/v1/users", json=body), 400, code)

    def test_user_without_password_gets_a_set_password_link_by_mail(
        self, app, api_as, make_user, smtp_server, deliver_mail
    ):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
        api = api_as(make_user(role="admin"))
        response = api.post(
            "/api/v1/users", json={"email": "invitee@example.org", "full_name": "Приглашённый", "role": "doctor"}
        )
        assert response.status_code == 201
        deliver_mail()
        [message] = smtp_server.messages
        assert message["To"] == "invitee@example.org"
        assert "/set-password/" in message.get_content()
