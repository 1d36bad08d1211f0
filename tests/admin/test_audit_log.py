"""The audit page reads as sentences about people and things, and narrows to a person, an object, a kind."""

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from flask_babel import force_locale

import portal
from portal.booking import changes, creating
from portal.core import audit
from portal.core.models import AuditEntry
from portal.extensions import db
from portal.reports.audit_sentences import KINDS, Sentence, Things
from tests.conftest import csrf_token_from

NOW = datetime(2099, 12, 1, 9, 0, tzinfo=UTC)  # the services' "now": the morning before the bookings
RAW = re.compile(r"booking_created|booking_cancelled|\\u04|\{\"|workstation_id|bookings #")


@pytest.fixture
def clinic_day(app, make_room, make_workstation, make_user):
    room = make_room(name="Кабинет роста")
    pc5 = make_workstation(room=room, label="ПК-5")
    pc6 = make_workstation(room=room, label="ПК-6")
    admin = make_user(role="admin", clinic=room.clinic, full_name="Анна Админова")
    maria = make_user(clinic=room.clinic, full_name="Мария Петрова")
    boris = make_user(clinic=room.clinic, full_name="Борис Смирнов")
    with app.test_request_context(), force_locale("ru"):
        mine = creating.create_booking(
            maria,
            workstation=pc5,
            start=datetime(2099, 12, 2, 7, tzinfo=UTC),
            end=datetime(2099, 12, 2, 8, tzinfo=UTC),
            now=NOW,
        )
        creating.create_booking(
            boris,
            workstation=pc6,
            start=datetime(2099, 12, 2, 7, tzinfo=UTC),
            end=datetime(2099, 12, 2, 8, tzinfo=UTC),
            now=NOW,
        )
        changes.cancel_booking(admin, mine, now=NOW, reason="Ремонт розетки")
        audit.record("room_hours_changed", actor=admin, clinic_id=room.clinic_id, obj=room, details={"hours": []})
    db.session.commit()
    return room, admin


def sentences(client, query=""):
    html = unescape(client.get(f"/admin/audit?{query}").get_data(as_text=True))
    return [
        re.sub(r"\s+", " ", text).strip() for text in re.findall(r'<td class="audit-sentence">(.*?)</td>', html, re.S)
    ], html


def test_a_booking_reads_as_a_sentence_with_the_person_the_workstation_and_the_time(client, auth, clinic_day):
    _room, admin = clinic_day
    auth.login(admin)

    russian, html = sentences(client)

    assert "Мария Петрова: бронь ПК-5 на 02.12.2099, 10:00–11:00." in russian
    assert (
        "Анна Админова: отмена брони ПК-5 (Мария Петрова) на 02.12.2099, 10:00–11:00. Причина: Ремонт розетки."
    ) in russian
    assert "Анна Админова: изменены часы работы кабинета «Кабинет роста»." in russian
    assert not RAW.search(re.sub(r'data-action="[^"]*"', "", html.split('id="audit-entries"')[1]))

    client.post("/language", data={"lang": "en", "csrf_token": csrf_token_from(html)})
    english, _html = sentences(client)
    assert "Мария Петрова booked ПК-5 for 2 Dec 2099, 10:00–11:00." in english
    assert (
        "Анна Админова cancelled the booking of ПК-5 by Мария Петрова for 2 Dec 2099, 10:00–11:00. "
        "Reason: Ремонт розетки."
    ) in english


def test_the_log_narrows_to_a_person_acting_or_acted_on(client, auth, clinic_day):
    _room, admin = clinic_day
    auth.login(admin)

    about_maria, _html = sentences(client, "person=Петрова")

    assert len(about_maria) == 2  # her booking, and the administrator's cancelling it
    assert all("Мария Петрова" in text for text in about_maria)
    assert not any("Борис" in text or "часы работы" in text for text in about_maria)


def test_the_log_narrows_to_an_object_and_to_a_kind(client, auth, clinic_day):
    _room, admin = clinic_day
    auth.login(admin)

    about_pc6, _html = sentences(client, "thing=ПК-6")
    about_the_room, _html = sentences(client, "thing=Кабинет роста")
    bookings, _html = sentences(client, "kind=bookings")

    assert about_pc6 == ["Борис Смирнов: бронь ПК-6 на 02.12.2099, 10:00–11:00."]
    assert about_the_room == ["Анна Админова: изменены часы работы кабинета «Кабинет роста»."]
    assert len(bookings) == 3 and not any("часы работы" in text for text in bookings)


def recorded_actions():
    """Every action code the portal's code writes to the log."""
    root = Path(portal.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r'audit\.record\(\s*"([a-z_.]+)"', text))
        for pair in re.findall(r'audit\.record\(\s*"([a-z_]+)" if active else "([a-z_]+)"', text):
            found.update(pair)
        found.update(re.findall(r'_keep_refusal_audit\("([a-z_]+)"', text))
    return found


def test_every_action_the_portal_records_has_a_sentence_and_a_kind(app):
    kinds = {action for _label, actions in KINDS.values() for action in actions}
    actions = recorded_actions()
    assert {"booking_created", "sign_in_refused_locked", "room_deactivated"} <= actions
    assert actions <= kinds

    entries = [AuditEntry(id=number, action=action, details={}, at=NOW) for number, action in enumerate(kinds)]
    with app.test_request_context():
        for locale in ("ru", "en"):
            with force_locale(locale):
                texts = {entry.action: Sentence(entry, Things([]), "Europe/Moscow").text for entry in entries}
            assert not [action for action, text in texts.items() if action in text], locale
