"""API token callers: with Redis they are cached, and every change to a user, a
role or a token made by any server ends the cached answer at once."""

import pytest
from sqlalchemy import event

from portal import create_app
from portal.auth import services
from portal.auth.models import ApiToken, User
from portal.extensions import db
from tests.conftest import make_config, redis_config


@pytest.fixture(params=["database", "redis"])
def caller_store(request):
    return request.param


@pytest.fixture
def config_overrides(request, caller_store):
    return redis_config(request.getfixturevalue("redis_url")) if caller_store == "redis" else {}


@pytest.fixture
def other_server(app, database_url, config_overrides):
    """A second app on the same database and Redis, as another gunicorn worker or machine."""
    server = create_app(make_config(database_url, **config_overrides))
    yield server
    with server.app_context():
        db.session.remove()
        db.engine.dispose()  # its pooled connections must not outlive the test


def change_elsewhere(server, change):
    db.session.commit()  # SQLite: release the test's write lock before the other server writes
    with server.app_context():
        change()
        db.session.commit()
        db.session.remove()


def test_a_token_revoked_on_another_server_stops_working_at_once(api_as, make_user, other_server, caller_store):
    doctor = make_user("doctor")
    api = api_as(doctor)
    assert api.get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/me").status_code == 200  # now cached with Redis

    def revoke():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == services.hash_secret(api.token)))
        services.revoke_token(token)

    change_elsewhere(other_server, revoke)
    response = api.get("/api/v1/me")

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_deactivated_user_is_refused_at_once(api_as, make_user, other_server, caller_store):
    doctor = make_user("doctor")
    doctor_id = doctor.id
    api = api_as(doctor)
    assert api.get("/api/v1/me").status_code == 200

    def deactivate():
        db.session.get(User, doctor_id).active = False

    change_elsewhere(other_server, deactivate)

    assert api.get("/api/v1/me").status_code == 401


def test_new_roles_apply_to_the_next_call(api_as, make_user, other_server, caller_store):
    doctor = make_user("doctor")
    doctor_id = doctor.id
    api = api_as(doctor)
    assert api.get("/api/v1/me").get_json()["roles"] == ["doctor"]
    assert api.get("/api/v1/users").status_code == 403

    change_elsewhere(other_server, lambda: db.session.get(User, doctor_id).set_roles(["doctor", "admin"]))

    assert api.get("/api/v1/me").get_json()["roles"] == ["admin", "doctor"]
    assert api.get("/api/v1/users").status_code == 200


def test_the_caller_is_the_token_owner_with_clinic_and_locale(api_as, make_user, caller_store):
    doctor = make_user("doctor", locale="en")
    api = api_as(doctor)

    answers = [api.get("/api/v1/me").get_json() for _ in range(2)]

    assert answers[0] == answers[1]
    assert answers[1]["id"] == doctor.id and answers[1]["email"] == doctor.email
    assert answers[1]["clinic"]["id"] == doctor.clinic_id and answers[1]["locale"] == "en"


def test_a_token_revoked_through_the_api_is_refused_afterwards(api_as, make_user, caller_store):
    api = api_as(make_user("doctor"))
    assert api.get("/api/v1/me").status_code == 200

    assert api.delete("/api/v1/tokens/current").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("caller_store", ["redis"])
def test_with_redis_a_repeated_call_reads_no_caller_from_the_database(app, api_as, make_user, caller_store):
    api = api_as(make_user("doctor"))
    api.get("/api/v1/me")
    statements = []

    def seen(connection, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert api.get("/api/v1/me").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements and not any("api_tokens" in statement or "user_roles" in statement for statement in statements)


@pytest.mark.parametrize("caller_store", ["redis"])
def test_the_cached_caller_is_keyed_by_token_hash_and_keeps_no_password_hash(app, api_as, make_user, caller_store):
    import redis

    doctor = make_user("doctor")
    api = api_as(doctor)
    api.get("/api/v1/me")
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    keys = list(client.scan_iter(match=app.config["CACHE_KEY_PREFIX"] + "entry:auth:token:*"))

    assert [key.decode().rsplit(":", 1)[1] for key in keys] == [services.hash_secret(api.token)]
    assert doctor.password_hash.encode() not in client.get(keys[0])
    assert api.token.encode() not in client.get(keys[0])
