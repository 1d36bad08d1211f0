"""End to end in Chromium: a trainer schedules, a doctor enrols, the trainer marks attendance,
the doctor downloads the certificate."""

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.core.db import utcnow
from portal.core.time import to_local
from portal.extensions import db
from portal.training import enrolling
from portal.training.models import TrainingSession
from tests.axe import problems_on, with_axe
from tests.conftest import browser_sign_in, browser_sign_out, open_user_menu
from tests.training.conftest import MOSCOW, local


@pytest.mark.browser
def test_schedule_enrol_attend_and_download_the_certificate(page, live_server, tmp_path, trainer, doctor, course, room):
    trainer_email, doctor_email, doctor_id, course_id = trainer.email, doctor.email, doctor.id, course.id
    db.session.commit()  # SQLite: every transaction takes the write lock, so the test holds none meanwhile
    with_axe(page)
    browser_sign_in(page, live_server, trainer_email)
    page.click("text=Проведение занятий")
    problems = problems_on(page, "trainer's sessions")
    page.click("#new-session")
    problems += problems_on(page, "new session")
    page.select_option("select[name=course_id]", str(course_id))
    page.fill("input[name=day]", to_local(local(1, 10), MOSCOW).date().isoformat())  # tomorrow
    page.fill("input[name=start_time]", "10:00")
    assert page.input_value("input[name=end_time]") == "11:30"  # the 2-hour course's length, filled in
    page.fill("input[name=capacity]", "8")
    page.click("form button[type=submit]:has-text('Назначить занятие')")
    page.wait_for_selector("text=Занятие назначено.")
    browser_sign_out(page)

    browser_sign_in(page, live_server, doctor_email)
    page.click("nav >> text=Обучение")
    card = page.locator(".training-card", has_text="Анафилаксия у детей")
    card.locator("button:has-text('Записаться')").click()
    page.wait_for_selector("text=Вы записаны на «Анафилаксия у детей»")
    problems += problems_on(page, "catalogue, enrolled")
    browser_sign_out(page)

    # Time passes: the session is now under way (the rules allow attendance only after the start).
    training = db.session.scalar(select(TrainingSession))
    training.start_at = utcnow() - timedelta(minutes=5)
    training.end_at = training.start_at + timedelta(minutes=90)
    training_id = training.id
    db.session.commit()

    browser_sign_in(page, live_server, trainer_email)
    page.goto(f"{live_server.url}/trainings/{training_id}/roster")
    problems += problems_on(page, "roster")
    page.check(f"input[name=attendance-{doctor_id}][value=attended]")
    page.click("#attendance-form button[type=submit]")
    page.wait_for_selector("text=Посещаемость сохранена (изменено: 1)")
    browser_sign_out(page)

    browser_sign_in(page, live_server, doctor_email)
    open_user_menu(page)
    page.click("nav >> text=Учёт обучения")
    page.wait_for_selector("#record-totals:has-text('академических часов: 2')")
    page.screenshot(path=str(tmp_path / "learning-record.png"), full_page=True)
    assert problems + problems_on(page, "learning record") == []
    with page.expect_download() as download_info:
        page.click("a.certificate-link")
    path = tmp_path / "certificate.pdf"
    download_info.value.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert "Мария Ивановна Петрова" in text and "Анафилаксия у детей" in text


@pytest.mark.browser
def test_trainer_moves_a_session_and_cuts_its_seats(
    page, live_server, tmp_path, trainer, course, schedule, make_user, clinic
):
    training = schedule(start=local(2, 10), minutes=90, capacity=3)
    doctors = [make_user(role="doctor", clinic=clinic, full_name=f"Врач {n}") for n in range(1, 4)]
    for doctor in doctors:
        enrolling.enrol(doctor, training, now=utcnow())
    trainer_email, training_id = trainer.email, training.id
    new_day = to_local(local(3, 10), MOSCOW).date().isoformat()
    db.session.commit()

    with_axe(page)
    browser_sign_in(page, live_server, trainer_email)
    page.goto(f"{live_server.url}/trainings/{training_id}/roster")
    page.click("#edit-session")
    problems = problems_on(page, "session editing")
    assert page.input_value("input[name=end_time]") == "11:30"
    page.fill("input[name=day]", new_day)
    page.fill("input[name=start_time]", "12:00")
    assert page.input_value("input[name=end_time]") == "13:30"  # the session keeps its length
    assert page.locator("#length-mismatch").is_hidden()
    page.fill("input[name=end_time]", "12:45")
    assert page.locator("#length-mismatch").is_visible()  # shorter than the course: the warning shows
    page.fill("input[name=end_time]", "13:30")
    assert page.locator("#length-mismatch").is_hidden()
    page.fill("input[name=capacity]", "2")
    page.click("#edit-session-form button[type=submit]")

    page.wait_for_selector("text=Записано врачей: 3 — больше, чем мест (2).")
    page.screenshot(path=str(tmp_path / "capacity-below-enrolled.png"), full_page=True)
    problems += problems_on(page, "fewer seats than enrolled")
    page.check("#move-to-waitlist input[type=checkbox]")
    page.click("#edit-session-form button[type=submit]")

    page.wait_for_selector("text=Занятие сохранено. Лист ожидания: возвращено 1")
    assert "Врач 3" in page.locator("ol").inner_text()  # the waitlist on the roster
    assert problems + problems_on(page, "roster after the change") == []
    db.session.expire_all()
    moved = db.session.get(TrainingSession, training_id)
    assert (moved.start_at, moved.end_at, moved.capacity, moved.seats_taken) == (local(3, 12), local(3, 13, 30), 2, 2)
