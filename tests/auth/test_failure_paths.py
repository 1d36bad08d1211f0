"""A failed sign-in is cheap for the server and tells an attacker nothing: one connection per request,
no second look at the database on the error path, and an unknown e-mail costs what a wrong password costs."""

import pytest
from sqlalchemy import event

from config import Config
from portal.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def checkouts(app):
    """How many pool connections each request holds at once, at most."""
    counts = {"open": 0, "most": 0}

    def checked_out(*_args):
        counts["open"] += 1
        counts["most"] = max(counts["most"], counts["open"])

    def checked_in(*_args):
        counts["open"] -= 1

    engine = db.engine
    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
    yield counts
    event.remove(engine, "checkout", checked_out)
    event.remove(engine, "checkin", checked_in)


def test_a_wrong_password_with_a_stray_bearer_header_is_a_quick_401_on_one_connection(client, make_user, checkouts):
    email = make_user().email
    db.session.close()  # the test's own connection goes back to the pool
    checkouts["most"] = 0

    response = client.post(
        "/api/v1/tokens",
        json={"email": email, "password": "wrong-password-123"},
        headers={"Authorization": "Bearer not-a-token"},
    )

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert checkouts["most"] == 1


def test_the_error_answer_reads_nothing_after_the_rollback(client, make_user, app):
    user = make_user()
    statements = []
    db.session.commit()

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        client.post(
            "/api/v1/tokens",
            json={"email": user.email, "password": "wrong-password-123"},
            headers={"Authorization": "Bearer not-a-token"},
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # After the refused attempt's audit row is written, nothing reads users again.
    after_audit = statements[max(i for i, s in enumerate(statements) if "INSERT INTO audit_log" in s) + 1 :]
    assert not any("FROM users" in statement for statement in after_audit)


@pytest.mark.parametrize("email", ["nobody@example.org", "known"])
def test_an_unknown_email_costs_one_password_hash_like_a_wrong_password(client, make_user, monkeypatch, email):
    from portal.auth import services

    user = make_user()
    hashed = []
    real_check = services.check_password_hash
    monkeypatch.setattr(
        services, "check_password_hash", lambda stored, given: hashed.append(stored) or real_check(stored, given)
    )

    response = client.post(
        "/api/v1/tokens", json={"email": user.email if email == "known" else email, "password": "wrong-password-123"}
    )

    assert response.status_code == 401 and len(hashed) == 1
    method_of = lambda stored: stored.split("$", 1)[0]  # noqa: E731
    assert method_of(hashed[0]) == method_of(user.password_hash)


@pytest.mark.parametrize("config_overrides", [{"PASSWORD_HASH_METHOD": Config.PASSWORD_HASH_METHOD}])
def test_passwords_are_stored_with_the_production_hash_and_still_sign_in(client, make_user):
    user = make_user()

    assert user.password_hash.startswith(Config.PASSWORD_HASH_METHOD + ":") and PASSWORD not in user.password_hash
    assert client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD}).status_code == 201
    assert (
        client.post("/api/v1/tokens", json={"email": user.email, "password": "wrong-password-123"}).status_code == 401
    )


def test_the_right_password_still_gets_a_token(client, make_user):
    user = make_user()
    response = client.post(
        "/api/v1/tokens",
        json={"email": user.email, "password": PASSWORD},
        headers={"Authorization": "Bearer stale-token"},
    )
    assert response.status_code == 201
