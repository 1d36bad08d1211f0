"""One way to write dates per language, English pages without Russian words, and notifications in the
language their reader chose last."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.clinics import faults, inventory
from portal.core.db import utcnow
from portal.core.models import Notification
from portal.core.time import format_day, format_local, format_local_span
from portal.extensions import db
from tests.conftest import csrf_token_from

CYRILLIC = re.compile("[а-яёА-ЯЁ]")
ENGLISH_SPAN = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d–\d\d:\d\d\b")
RUSSIAN_SPAN = re.compile(r"\b\d\d\.\d\d\.20\d\d, \d\d:\d\d–\d\d:\d\d\b")
# What Babel's default short formats wrote before: "12/3/26, 4:00 PM".
ENGLISH_SHORT_DEFAULT = re.compile(r"\d{1,2}/\d{1,2}/\d\d|\b[AP]M\b")


def text_of(response):
    return unescape(response.get_data(as_text=True))


def choose_language(client, lang):
    page = client.get("/sign-in", follow_redirects=True)  # a signed-in user lands on the dashboard
    return client.post("/language", data={"lang": lang, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


@pytest.fixture
def training_week(app, make_room, make_user):
    """A clinic with a CME-accredited course and a plain one, each with a session at 16:00–17:30 Moscow time."""
    from portal.training import scheduling
    from portal.training.models import Course

    room = make_room(capacity=10)
    trainer = make_user(role=["trainer", "doctor"], clinic=room.clinic, full_name="Игорь Павлович Лекторов")
    start = datetime(2099, 3, 12, 13, 0, tzinfo=UTC)  # 16:00 in Moscow
    for title, nmo_id in (("Анафилаксия у детей", "2099-04512"), ("Работа с PubMed", None)):
        course = Course(
            clinic_id=room.clinic_id,
            title=title,
            description="",
            trainer_id=trainer.id,
            academic_hours=Decimal("2"),
            nmo_id=nmo_id,
        )
        db.session.add(course)
        db.session.flush()
        scheduling.schedule_session(
            trainer,
            course=course,
            room=room,
            start=start,
            end=start.replace(hour=14, minute=30),
            capacity=5,
            whole_room=False,
            now=datetime(2099, 3, 1, tzinfo=UTC),
        )
        start = start.replace(day=13)
    db.session.commit()
    return room, trainer


def test_one_date_and_time_format_per_language(app):
    start, end = datetime(2026, 12, 3, 13, 0, tzinfo=UTC), datetime(2026, 12, 3, 13, 45, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("en"):
            english = (
                format_local(start, "Europe/Moscow"),
                format_local(end, "Europe/Moscow", "time"),
                format_local_span(start, end, "Europe/Moscow"),
                format_day(start.date()),
            )
        with force_locale("ru"):
            russian = (
                format_local(start, "Europe/Moscow"),
                format_local(end, "Europe/Moscow", "time"),
                format_local_span(start, end, "Europe/Moscow"),
                format_day(start.date()),
            )

    assert english == ("3 Dec 2026, 16:00", "16:45", "3 Dec 2026, 16:00–16:45", "3 Dec 2026")
    assert russian == ("03.12.2026, 16:00", "16:45", "03.12.2026, 16:00–16:45", "03.12.2026")


def test_a_span_over_midnight_names_both_days(app):
    with app.test_request_context(), force_locale("ru"):
        span = format_local_span(
            datetime(2026, 12, 3, 20, 0, tzinfo=UTC), datetime(2026, 12, 3, 21, 30, tzinfo=UTC), "Europe/Moscow"
        )
    assert span == "03.12.2026, 23:00 – 04.12.2026, 00:30"


def test_the_english_catalogue_writes_every_session_one_way_and_says_cme(client, auth, training_week):
    _room, trainer = training_week
    auth.login(trainer)
    choose_language(client, "en")

    html = text_of(client.get("/trainings"))

    assert ENGLISH_SPAN.findall(html) == ["12 Mar 2099, 16:00–17:30", "13 Mar 2099, 16:00–17:30"]
    assert not ENGLISH_SHORT_DEFAULT.search(html)
    badges = re.findall(r'<span class="badge[^"]*">([^<]*)</span>', html)
    assert "CME: 2099-04512" in badges and "not CME" in badges
    assert not [badge for badge in badges if CYRILLIC.search(badge)]


def test_the_russian_catalogue_writes_sessions_the_russian_way_and_says_nmo(client, auth, training_week):
    _room, trainer = training_week
    auth.login(trainer)

    html = text_of(client.get("/trainings"))

    assert RUSSIAN_SPAN.findall(html) == ["12.03.2099, 16:00–17:30", "13.03.2099, 16:00–17:30"]
    badges = re.findall(r'<span class="badge[^"]*">([^<]*)</span>', html)
    assert "НМО: 2099-04512" in badges and "не НМО" in badges


def test_the_language_chosen_before_signing_in_is_kept_for_the_user(client, auth, make_user):
    doctor = make_user(locale="ru")

    choose_language(client, "en")
    auth.login(doctor)

    db.session.refresh(doctor)
    assert doctor.locale == "en"
    assert "Sign out" in text_of(client.get("/dashboard"))


def test_each_admin_is_told_of_a_problem_in_their_own_language(app, make_room, make_workstation, make_user):
    room = make_room()
    workstation = make_workstation(room=room, label="PC-5")
    english_admin = make_user(role="admin", clinic=room.clinic, locale="en")
    russian_admin = make_user(role="admin", clinic=room.clinic, locale="ru")
    doctor = make_user(clinic=room.clinic, locale="ru")
    item = inventory.create_equipment(english_admin, room, kind="projector", inventory_number="INV-1")

    with app.test_request_context(), force_locale("ru"):  # the reporting doctor's own language
        faults.report_problem(
            doctor, room, description="Не включается", now=utcnow(), workstation=workstation, equipment=item
        )
    db.session.commit()

    subjects = dict(
        db.session.execute(
            select(Notification.user_id, Notification.subject).where(Notification.kind == "problem_reported")
        ).all()
    )
    assert subjects[english_admin.id] == "Problem reported: PC-5 / projector INV-1"
    assert subjects[russian_admin.id] == "Новая заявка о неисправности: PC-5 / проектор INV-1"


def test_the_reporter_hears_of_the_resolution_in_their_language_not_the_admins(app, make_room, make_user):
    room = make_room()
    admin = make_user(role="admin", clinic=room.clinic, locale="ru")
    doctor = make_user(clinic=room.clinic, locale="en")
    item = inventory.create_equipment(admin, room, kind="printer", inventory_number="INV-2")
    report = faults.report_problem(doctor, room, description="Paper jam", now=utcnow(), equipment=item)

    with app.test_request_context(), force_locale("ru"):  # the administrator works in Russian
        faults.set_problem_status(admin, report, "in_progress", now=utcnow())
        faults.set_problem_status(admin, report, "resolved", now=utcnow())
    db.session.commit()

    told = db.session.scalar(select(Notification).where(Notification.user_id == doctor.id))
    assert told.subject == "Your problem report is resolved: printer INV-2"
    assert told.body == "The administrator marked it as resolved."


def label_of(html, field_id):
    match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>([^<]*)</label>', html)
    assert match, field_id
    return match.group(1).strip()


def test_rooms_and_resources_have_a_name_and_people_a_full_name(client, auth, make_user):
    admin = make_user(role="admin")
    auth.login(admin)

    room_form = text_of(client.get(f"/admin/clinics/{admin.clinic_id}/rooms/new"))
    resource_form = text_of(client.get("/search/admin"))
    user_form = text_of(client.get(f"/admin/clinics/{admin.clinic_id}/users/new"))

    assert label_of(room_form, "name") == "Название"
    assert label_of(resource_form, "name") == "Название"
    assert label_of(user_form, "full_name") == "ФИО"


def test_the_room_schedule_is_titled_schedule(client, auth, make_room, make_user):
    room = make_room(name="Кабинет роста")
    auth.login(make_user(clinic=room.clinic))

    title = re.search(r"<title>([^<]*)</title>", text_of(client.get(f"/rooms/{room.id}/schedule"))).group(1)

    assert title.startswith("Кабинет роста — Расписание")


def test_a_doctor_enrolled_in_a_full_session_is_not_offered_the_waitlist(client, auth, training_week, make_user):
    from portal.training import enrolling
    from portal.training.models import TrainingSession

    room, _trainer = training_week
    doctor = make_user(clinic=room.clinic, full_name="Мария Ивановна Петрова")
    training = db.session.scalars(select(TrainingSession).order_by(TrainingSession.start_at)).first()
    training.capacity = 1
    enrolling.enrol(doctor, training, now=datetime(2099, 3, 1, tzinfo=UTC))
    db.session.commit()
    auth.login(doctor)

    html = text_of(client.get("/trainings"))
    card = html.split(f'data-session-id="{training.id}"')[1].split("training-card")[0]

    assert "Вы записаны" in card and "Все места заняты" in card
    assert "лист ожидания" not in card.lower()


def test_a_checked_in_booking_reads_the_same_for_any_doctor(app):
    from flask import render_template_string

    with app.test_request_context(), force_locale("ru"):
        badges = {
            status: render_template_string(
                '{% from "booking/_macros.html" import status_badge %}{{ status_badge(booking) }}',
                booking={"status": status},
            )
            for status in ("booked", "checked_in", "completed", "cancelled", "no_show")
        }

    texts = {status: re.sub("<[^>]+>", "", badge).strip() for status, badge in badges.items()}
    assert texts == {
        "booked": "активна",
        "checked_in": "приход отмечен",
        "completed": "завершена",
        "cancelled": "отменена",
        "no_show": "неявка",
    }


# Past tenses that take the reader's or the actor's gender: the portal does not know it.
GENDERED = re.compile(
    r"\(а\)|\b(?:отметил|отметился|отметилась|записался|записалась|сообщил|передал|отменил|"
    r"перешёл|принял|присутствовал|отсутствовал)\b",
    re.IGNORECASE,
)


def test_no_russian_text_presumes_a_gender():
    from pathlib import Path

    from babel.messages.pofile import read_po

    found = []
    for path in Path(__file__).resolve().parents[2].glob("portal/*/translations/ru/LC_MESSAGES/messages.po"):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="ru"):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                found += [text for text in strings if text and GENDERED.search(text)]
    assert found == []
