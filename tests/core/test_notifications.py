"""Notifications: in the portal always, by e-mail through the outbox, delivered over real SMTP by the worker."""

import pytest
from sqlalchemy import select

from portal.core import notifications
from portal.core.models import OutboxMessage
from portal.extensions import db


@pytest.fixture
def config_overrides(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_DEFAULT_SENDER": "portal@example.org"}


def test_notification_is_listed_and_mailed_by_the_worker_once(auth, client, make_user, smtp_server, deliver_mail):
    doctor = make_user(full_name="Мария Петрова")
    notifications.notify(doctor, "booking_confirmed", "Бронирование подтверждено", "ПК-3, 10:00–11:00")
    db.session.commit()
    assert smtp_server.messages == []  # the commit only wrote the outbox; the worker sends
    assert deliver_mail().sent == 1
    [message] = smtp_server.messages
    assert message["To"] == doctor.email and message["From"] == "portal@example.org"
    assert message["Subject"] == "Бронирование подтверждено"
    assert "ПК-3, 10:00–11:00" in message.get_content()
    assert deliver_mail().sent == 0
    assert len(smtp_server.messages) == 1
    auth.login(doctor)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Бронирование подтверждено" in page


def test_rolled_back_change_sends_no_mail(make_user, smtp_server, deliver_mail):
    doctor = make_user()
    notifications.notify(doctor, "booking_confirmed", "Subject", "Body")
    db.session.rollback()
    assert deliver_mail().attempted == 0
    assert smtp_server.messages == []
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_user_who_opted_out_of_a_kind_gets_no_mail_but_sees_it_in_the_portal(make_user, smtp_server, deliver_mail):
    doctor = make_user(email_opt_out="booking_confirmed")
    notifications.notify(doctor, "booking_confirmed", "Subject", "Body")
    notifications.notify(doctor, "booking_cancelled", "Cancelled", "Body")
    db.session.commit()
    deliver_mail()
    assert [m["Subject"] for m in smtp_server.messages] == ["Cancelled"]
    assert notifications.unread_count(doctor) == 2


def test_without_mail_server_the_mail_goes_to_the_log(app, make_user, caplog, deliver_mail):
    app.config["MAIL_SERVER"] = None
    doctor = make_user()
    notifications.notify(doctor, "booking_confirmed", "Logged subject", "Body")
    with caplog.at_level("INFO", logger="portal.mail"):
        assert deliver_mail().sent == 1
    assert "Logged subject" in caplog.text


def test_email_preferences_list_every_features_kinds_and_keep_unknown_ones(auth, client, make_user):
    from tests.conftest import csrf_token_from

    doctor = make_user(email_opt_out="some_future_kind")
    auth.login(doctor)
    page = client.get("/notifications/email").get_data(as_text=True)
    for label in ("Бронь подтверждена", "Напоминание перед началом занятия", "Моя заявка о неисправности решена"):
        assert label in page
    response = client.post(
        "/notifications/email",
        data={"csrf_token": csrf_token_from(page), "booking_confirmed": "y", "training_reminder": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(doctor)
    assert doctor.wants_email("booking_confirmed") and doctor.wants_email("training_reminder")
    assert not doctor.wants_email("booking_moved") and not doctor.wants_email("training_enrolled")
    assert not doctor.wants_email("some_future_kind")
