"""A database that cannot be reached, or that accepts connections and never answers: the portal says so
with 503 (the API in its error shape) instead of hanging or answering 500, and the answer itself never
asks the database again."""

import socket
import sqlite3
import threading

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import free_port, make_config


@pytest.fixture
def silent_server():
    """A TCP server that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()


def _answers(app, session_user_id=None):
    client = app.test_client()
    if session_user_id is not None:
        with client.session_transaction() as browser_session:
            browser_session.update({"_user_id": str(session_user_id), "sid": "some-session", "seen": 1e12})
    answers = {
        "healthz": client.get("/healthz"),
        "api": client.get("/api/v1/me", headers={"Authorization": "Bearer some-token"}),
        "page": client.get("/dashboard"),
    }
    with app.app_context():
        db.engine.dispose()
    return answers


def _assert_all_unavailable(answers):
    assert answers["healthz"].status_code == 503
    assert answers["healthz"].get_json() == {"status": "unavailable"}
    assert answers["api"].status_code == 503
    assert answers["api"].get_json()["error"]["code"] == "unavailable"
    assert answers["api"].headers["Retry-After"] == "30"
    assert answers["page"].status_code == 503
    assert "database" in answers["page"].get_data(as_text=True)


def test_everything_answers_503_when_the_database_cannot_be_reached(database_url, tmp_path):
    if database_url.startswith("postgresql"):
        unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    else:
        unreachable = "sqlite:///" + str(tmp_path / "no-such-dir" / "db.sqlite3")
    _assert_all_unavailable(_answers(create_app(make_config(unreachable, BABEL_DEFAULT_LOCALE="en")), 1))


def test_a_database_that_never_answers_gets_503_not_a_hang(database_url, silent_server, tmp_path):
    if database_url.startswith("postgresql"):
        # The default connect timeout, which keeps every answer within the specification's 10 seconds.
        app = create_app(
            make_config(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/portal", BABEL_DEFAULT_LOCALE="en")
        )
        _assert_all_unavailable(_answers(app, 1))
        return
    # SQLite "never answers" when another writer holds the lock: the busy timeout ends the wait.
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        app = create_app(make_config(f"sqlite:///{path}", DB_STATEMENT_TIMEOUT_SECONDS=1, BABEL_DEFAULT_LOCALE="en"))
        _assert_all_unavailable(_answers(app, 1))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
