"""The mail outbox: written with the change, delivered by the worker over real SMTP, through outages,
by several workers at once, each message once."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.core import mail, notifications
from portal.core.db import utcnow
from portal.core.models import OutboxMessage
from portal.extensions import db
from tests.conftest import at_once


@pytest.fixture
def config_overrides(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}


@pytest.fixture
def tell_doctors(make_user):
    """tell_doctors(n) → n doctors, each notified once in one committed change; returns their addresses."""

    def tell(count):
        doctors = [make_user() for _ in range(count)]
        for doctor in doctors:
            notifications.notify(doctor, "booking_cancelled", f"Бронь отменена: {doctor.email}", "Текст")
        addresses = sorted(doctor.email for doctor in doctors)
        db.session.commit()
        return addresses

    return tell


def received(smtp_server):
    return Counter(message["To"] for message in smtp_server.messages)


def outbox():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_ten_minute_smtp_outage_delivers_every_mail_once_when_smtp_returns(smtp_server, tell_doctors, deliver_mail):
    smtp_server.stop()
    addresses = tell_doctors(3)
    start = utcnow()
    for minute in range(10):  # the worker keeps trying while the server is away
        deliver_mail(now=start + timedelta(minutes=minute))
    waiting = outbox()
    assert {message.status for message in waiting} == {"pending"}
    assert all(message.attempts >= 1 and "ConnectionRefusedError" in message.last_error for message in waiting)

    smtp_server.start()
    back = start + timedelta(minutes=10)
    deliver_mail(now=back)
    deliver_mail(now=back + mail.LONGEST_RETRY)  # every back-off has ended by now
    assert received(smtp_server) == Counter(addresses)
    assert {message.status for message in outbox()} == {"sent"}
    assert deliver_mail(now=back + timedelta(days=2)).attempted == 0
    assert received(smtp_server) == Counter(addresses)


def test_a_failed_attempt_waits_longer_each_time(smtp_server, tell_doctors, deliver_mail):
    smtp_server.stop()
    tell_doctors(1)
    now = utcnow()
    waits = []
    for _ in range(4):
        assert deliver_mail(now=now).retrying == 1
        [message] = outbox()
        waits.append(message.next_attempt_at - now)
        assert deliver_mail(now=message.next_attempt_at - timedelta(seconds=1)).attempted == 0
        now = message.next_attempt_at
    assert waits == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


def test_mail_that_fails_for_a_day_is_given_up_and_kept_with_its_error(smtp_server, tell_doctors, deliver_mail):
    smtp_server.stop()
    tell_doctors(1)
    [message] = outbox()
    assert deliver_mail(now=message.created_at + mail.GIVE_UP_AFTER).given_up == 1
    [message] = outbox()
    assert (message.status, message.next_attempt_at) == ("failed", None)
    assert "ConnectionRefusedError" in message.last_error
    smtp_server.start()
    assert deliver_mail(now=message.created_at + timedelta(days=2)).attempted == 0
    assert smtp_server.messages == []


def test_a_refused_recipient_does_not_hold_up_the_others(smtp_server, tell_doctors, deliver_mail, make_user):
    addresses = tell_doctors(2)
    notifications.notify(make_user(email="nobody@example.org"), "booking_cancelled", "S", "B")
    db.session.commit()
    original = smtp_server.handle_DATA

    async def refuse_nobody(server, session, envelope):
        if envelope.rcpt_tos == ["nobody@example.org"]:
            return "550 no such mailbox"
        return await original(server, session, envelope)

    smtp_server.handle_DATA = refuse_nobody
    delivery = deliver_mail()
    assert (delivery.sent, delivery.retrying) == (2, 1)
    assert received(smtp_server) == Counter(addresses)
    refused = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "nobody@example.org"))
    assert refused.status == "pending" and "550" in refused.last_error


def test_a_message_whose_worker_died_mid_send_is_sent_after_the_lease(smtp_server, tell_doctors, deliver_mail):
    [address] = tell_doctors(1)
    now = utcnow()
    # What a worker leaves behind when it is killed between claiming a message and sending it.
    db.session.execute(update(OutboxMessage).values(status="sending", attempts=1, next_attempt_at=now + mail.LEASE))
    db.session.commit()
    assert deliver_mail(now=now + mail.LEASE - timedelta(seconds=1)).attempted == 0
    assert deliver_mail(now=now + mail.LEASE).sent == 1
    assert received(smtp_server) == Counter([address])


@pytest.mark.slow
def test_two_workers_delivering_at_once_send_each_mail_once(app, smtp_server, tell_doctors):
    addresses = tell_doctors(40)
    deliveries = at_once(app, lambda: mail.deliver_due(app.config, now=utcnow()))
    assert sum(delivery.sent for delivery in deliveries) == 40
    assert received(smtp_server) == Counter(addresses)
    assert {(message.status, message.attempts) for message in outbox()} == {("sent", 1)}


def test_finished_mail_is_forgotten_after_thirty_days(smtp_server, tell_doctors, deliver_mail, make_user):
    tell_doctors(1)
    deliver_mail()
    notifications.notify(make_user(), "booking_cancelled", "Ещё не отправлено", "")
    db.session.commit()
    [sent, waiting] = outbox()
    mail.forget_finished(sent.created_at + mail.KEEP_FINISHED - timedelta(seconds=1))
    db.session.commit()
    assert len(outbox()) == 2
    mail.forget_finished(sent.created_at + mail.KEEP_FINISHED + timedelta(seconds=1))
    db.session.commit()
    assert [message.id for message in outbox()] == [waiting.id]


def test_a_line_break_in_a_subject_cannot_add_a_header(smtp_server, deliver_mail, make_user):
    doctor = make_user()
    address = doctor.email
    notifications.notify(doctor, "booking_cancelled", "Курс «Астма»\r\nBcc: someone@example.org", "Текст")
    assert deliver_mail().sent == 1
    [message] = smtp_server.messages
    assert message["Subject"] == "Курс «Астма» Bcc: someone@example.org"
    assert (message["To"], message["Bcc"]) == (address, None)
