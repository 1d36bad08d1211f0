from sqlalchemy import select

from portal.core.models import AuditEntry
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_token_from


def test_right_password_opens_the_dashboard_in_russian(auth, client, make_user):
    doctor = make_user(full_name="Мария Петрова")
    response = auth.login(doctor)
    assert response.status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Здравствуйте, Мария Петрова" in page
    assert 'lang="ru"' in page


def test_wrong_password_shows_a_clear_message_and_is_audited(auth, make_user):
    doctor = make_user()
    response = auth.login(doctor, password="not-the-password")
    assert response.status_code == 401
    assert "Неверный e-mail или пароль" in response.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["sign_in_failed"]


def test_sign_in_without_csrf_token_is_refused(client, make_user):
    doctor = make_user()
    response = client.post("/sign-in", data={"email": doctor.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_english_switch_is_remembered_for_the_user(auth, client, make_user):
    doctor = make_user(full_name="Maria Petrova")
    auth.login(doctor)
    client.post("/language", data={"csrf_token": auth.csrf_token(), "lang": "en", "next": "/dashboard"})
    assert "Hello, Maria Petrova" in client.get("/dashboard").get_data(as_text=True)
    auth.logout()
    auth.login(doctor)
    assert "Hello, Maria Petrova" in client.get("/dashboard").get_data(as_text=True)
    db.session.refresh(doctor)
    assert doctor.locale == "en"


def test_sign_in_page_carries_a_csrf_token(client):
    assert csrf_token_from(client.get("/sign-in").get_data(as_text=True))
