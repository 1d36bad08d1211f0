from portal import create_app
from portal.extensions import db
from tests.conftest import free_port, make_config


def test_healthz_answers_ok_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_503_when_the_database_cannot_be_reached(database_url, tmp_path):
    if database_url.startswith("postgresql"):
        unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    else:
        unreachable = "sqlite:///" + str(tmp_path / "no-such-dir" / "db.sqlite3")
    app = create_app(make_config(unreachable))
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
