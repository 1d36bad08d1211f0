"""Training rule 4: attendance after the start, the learning record, certificates and their public check."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pdfplumber
from pypdf import PdfReader
from sqlalchemy import select

from portal.core.db import utcnow
from portal.extensions import db
from portal.training import attendance, enrolling
from portal.training.models import Certificate, Course


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_attendance_waits_for_the_start(api_as, schedule, trainer, doctor):
    training = schedule()
    api_as(doctor).post(f"/api/v1/trainings/{training.id}/enrolment")
    response = api_as(trainer).post(
        f"/api/v1/trainings/{training.id}/attendance", json={"user_id": doctor.id, "attended": True}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "session_not_started"


def test_trainer_marks_attendance_and_a_certificate_is_issued(api_as, started_session, trainer, doctor):
    training = started_session(enrolled=[doctor])
    response = api_as(trainer).post(
        f"/api/v1/trainings/{training.id}/attendance", json={"user_id": doctor.id, "attended": True}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["user_id"], body["status"]) == (doctor.id, "attended")
    assert db.session.scalar(select(Certificate.number)) == body["certificate_number"]


def test_attendance_rules(api_as, started_session, trainer, doctor, make_user, clinic):
    training = started_session(enrolled=[doctor])
    path = f"/api/v1/trainings/{training.id}/attendance"
    assert api_as(doctor).post(path, json={"user_id": doctor.id, "attended": True}).status_code == 403
    stranger = make_user(clinic=clinic)
    not_enrolled = api_as(trainer).post(path, json={"user_id": stranger.id, "attended": True})
    assert (not_enrolled.status_code, not_enrolled.get_json()["error"]["code"]) == (409, "not_enrolled")
    bad = api_as(trainer).post(path, json={"user_id": doctor.id, "attended": "yes"})
    assert bad.status_code == 400


def test_marking_absent_withdraws_the_certificate(api_as, client, started_session, trainer, doctor):
    training = started_session(enrolled=[doctor])
    path = f"/api/v1/trainings/{training.id}/attendance"
    number = api_as(trainer).post(path, json={"user_id": doctor.id, "attended": True}).get_json()["certificate_number"]
    assert client.get(f"/certificates/{number}").status_code == 200
    api_as(trainer).post(path, json={"user_id": doctor.id, "attended": False})
    withdrawn = client.get(f"/certificates/{number}")
    assert withdrawn.status_code == 410
    assert "отозван" in withdrawn.get_data(as_text=True)
    again = api_as(trainer).post(path, json={"user_id": doctor.id, "attended": True}).get_json()
    assert again["certificate_number"] == number  # the same document is valid again


def test_certificate_pdf_reads_back_and_the_public_page_confirms_it(
    app, client, auth, started_session, trainer, doctor
):
    app.config["PORTAL_BASE_URL"] = "https://portal.example.ru"
    training = started_session(enrolled=[doctor])
    attendance.mark_attendance(trainer, training, doctor.id, True, now=utcnow())
    db.session.commit()
    certificate = db.session.scalar(select(Certificate))
    auth.login(doctor)
    response = client.get(f"/trainings/certificates/{certificate.enrolment_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Мария Ивановна Петрова" in text
    assert "Анафилаксия у детей" in text
    assert certificate.number in text
    assert "2 академических часа" in text
    assert "НМО-2026-04512" in text
    assert f"https://portal.example.ru/certificates/{certificate.number}" in text

    auth.logout()
    page = client.get(f"/certificates/{certificate.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Мария Ивановна Петрова" in html and "Анафилаксия у детей" in html and "действителен" in html
    missing = client.get("/certificates/2026-AAAAA-BBBBB")
    assert missing.status_code == 404
    assert "не существует" in missing.get_data(as_text=True)


def test_certificate_of_a_non_nmo_course_says_it_gives_no_credit(
    app, client, auth, started_session, trainer, doctor, course
):
    course.nmo_id = None
    course.academic_hours = Decimal("1.5")
    db.session.commit()
    training = started_session(enrolled=[doctor])
    attendance.mark_attendance(trainer, training, doctor.id, True, now=utcnow())
    db.session.commit()
    certificate = db.session.scalar(select(Certificate))
    auth.login(doctor)
    text = pdf_text(client.get(f"/trainings/certificates/{certificate.enrolment_id}.pdf").data)
    assert "не даёт баллов НМО" in " ".join(text.split())
    assert "1,5 академического часа" in text


def test_only_the_holder_and_trainers_download_a_certificate(
    client, auth, started_session, trainer, doctor, make_user, clinic
):
    training = started_session(enrolled=[doctor])
    attendance.mark_attendance(trainer, training, doctor.id, True, now=utcnow())
    db.session.commit()
    path = f"/trainings/certificates/{db.session.scalar(select(Certificate.enrolment_id))}.pdf"
    auth.login(make_user(clinic=clinic))
    assert client.get(path).status_code == 404
    auth.logout()
    auth.login(trainer)
    assert client.get(path).status_code == 200


def test_the_learning_record_pdf_keeps_each_column_header_inside_its_column(
    client, auth, trainer, doctor, course, room
):
    _attend(trainer, doctor, course, room, utcnow() - timedelta(days=3))
    auth.login(doctor)
    with pdfplumber.open(io.BytesIO(client.get("/trainings/record.pdf").data)) as document:
        page = document.pages[0]
        (table,) = page.find_tables()
        header = table.rows[0]
        assert [" ".join(label.split()) for label in table.extract()[0]] == [
            "Дата",
            "Занятие",
            "Преподаватель",
            "Академические часы",
            "НМО",
            "Сертификат",
        ]
        left, top, right, bottom = header.bbox
        words = [word for word in page.extract_words() if top <= word["top"] and word["bottom"] <= bottom]
        assert len(words) == 7  # "Академические часы" on two lines
        for word in words:
            assert any(x0 < word["x0"] and word["x1"] < x1 for x0, _top, x1, _bottom in header.cells), word


def test_the_learning_record_csv_shows_a_formula_in_a_course_title_as_text(client, auth, trainer, doctor, course, room):
    course.title = '=HYPERLINK("http://evil.example";"Сертификат")'
    db.session.commit()
    _attend(trainer, doctor, course, room, utcnow() - timedelta(days=3))
    auth.login(doctor)
    exported = client.get("/trainings/record.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example";"Сертификат")'


def _attend(trainer, doctor, course, room, start):
    """An attended session at `start` (in the past) as long as its course, through the services with their own
    `now`."""
    from portal.training.models import TrainingSession

    training = TrainingSession(
        course_id=course.id,
        room_id=room.id,
        start_at=start,
        end_at=start + timedelta(minutes=course.minutes),
        capacity=3,
        created_by_id=trainer.id,
        trainer_id=trainer.id,
    )
    db.session.add(training)
    db.session.flush()
    enrolling.enrol(doctor, training, now=start - timedelta(days=1))
    attendance.mark_attendance(trainer, training, doctor.id, True, now=start + timedelta(minutes=45))
    db.session.commit()


def test_learning_record_totals_and_exports(client, auth, trainer, doctor, course, room, clinic):
    pubmed = Course(
        clinic_id=clinic.id, title="Поиск в PubMed", trainer_id=trainer.id, academic_hours=Decimal("1"), nmo_id=None
    )
    db.session.add(pubmed)
    db.session.commit()
    now = utcnow()
    _attend(trainer, doctor, course, room, now - timedelta(days=30))
    _attend(trainer, doctor, pubmed, room, now - timedelta(days=60))
    _attend(trainer, doctor, course, room, now - timedelta(days=6 * 365))  # outside the default 5 years
    auth.login(doctor)

    page = client.get("/trainings/record").get_data(as_text=True)
    assert "Посещено занятий: 2" in page and "академических часов: 3" in page and "из них НМО: 2" in page

    exported = client.get("/trainings/record.csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[1] for row in rows[1:-1]] == ["Поиск в PubMed", "Анафилаксия у детей"]
    assert rows[1][4] == "не НМО" and rows[2][4] == "НМО-2026-04512"
    assert rows[-1][3] == "3"

    everything = client.get("/trainings/record.csv", query_string={"first_day": "2000-01-01"})
    assert len(list(csv.reader(io.StringIO(everything.get_data(as_text=True))))) == 5

    text = pdf_text(client.get("/trainings/record.pdf").data)
    assert "Мария Ивановна Петрова" in text and "Поиск в PubMed" in text
    assert "3 академических часа" in " ".join(text.split())
