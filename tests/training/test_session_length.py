"""A session's length defaults from its course (1 academic hour = 45 minutes), a different length is
warned about, and certificates state the hours actually held (training rule 4)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.db import utcnow
from portal.core.time import to_local
from portal.extensions import db
from portal.training import attendance
from portal.training.models import Certificate, Course, TrainingSession
from tests.conftest import csrf_token_from
from tests.training.conftest import MOSCOW, local
from tests.training.test_attendance_and_certificates import pdf_text


@pytest.mark.parametrize(
    "course_hours, minutes, held",
    [
        ("2", 90, "2"),
        ("2", 45, "1"),  # the 10:00–10:45 for a 2-hour course
        ("2", 67, "1"),  # 1.5 academic hours are 67.5 minutes: not yet held
        ("2", 68, "1.5"),
        ("1", 40, "0.5"),  # rounded down to a half
        ("0.5", 23, "0.5"),  # a half-hour course's own default length
        ("1", 120, "1"),  # a longer session gives no more than its course
    ],
)
def test_the_hours_a_session_gives(course_hours, minutes, held):
    course = Course(academic_hours=Decimal(course_hours))
    start = utcnow()
    training = TrainingSession(course=course, start_at=start, end_at=start + timedelta(minutes=minutes))
    assert training.academic_hours == Decimal(held)


def test_a_course_is_as_long_as_its_hours():
    assert [Course(academic_hours=Decimal(h)).minutes for h in ("0.5", "1", "1.5", "2")] == [23, 45, 68, 90]


def _form(client, **values):
    page = client.get("/trainings/sessions/new").get_data(as_text=True)
    return {
        "csrf_token": csrf_token_from(page),
        "day": to_local(local(2, 10), MOSCOW).date().isoformat(),
        "start_time": "10:00",
        "capacity": "5",
        "weeks": "1",
        **values,
    }


def test_without_an_end_the_session_is_as_long_as_its_course(client, auth, trainer, course, room):
    auth.login(trainer)
    page = client.get(f"/trainings/sessions/new?course_id={course.id}").get_data(as_text=True)
    assert "Если не указать, занятие продлится столько, сколько курс" in page
    assert f"data-course-minutes='{{\"{course.id}\": 90}}'" in page  # for the script that fills the end
    response = client.post(
        "/trainings/sessions/new", data=_form(client, course_id=course.id, room_id=room.id), follow_redirects=True
    )
    assert "Занятие назначено." in response.get_data(as_text=True)
    assert "в сертификатах будет указано" not in response.get_data(as_text=True)
    training = db.session.scalar(select(TrainingSession))
    assert training.minutes == 90 and training.academic_hours == Decimal("2")


def test_a_shorter_session_is_scheduled_with_a_visible_warning(client, auth, trainer, course, room):
    auth.login(trainer)
    response = client.post(
        "/trainings/sessions/new",
        data=_form(client, course_id=course.id, room_id=room.id, end_time="10:45"),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    warning = (
        "Занятие длится 45 мин, а курс рассчитан на 2 академических часа (90 мин): в сертификатах будет "
        "указано 1 академический час."
    )
    assert "Занятие назначено." in html and warning in html
    training = db.session.scalar(select(TrainingSession))
    assert training.minutes == 45
    # The roster keeps saying so.
    assert warning in client.get(f"/trainings/{training.id}/roster").get_data(as_text=True)


def test_the_certificate_and_the_record_state_the_hours_actually_held(
    client, auth, trainer, doctor, course, started_session
):
    training = started_session(enrolled=[doctor])
    training.end_at = training.start_at + timedelta(minutes=45)  # a 2-hour course held for 45 minutes
    attendance.mark_attendance(trainer, training, doctor.id, True, now=utcnow())
    db.session.commit()
    certificate = db.session.scalar(select(Certificate))
    assert certificate.academic_hours == Decimal("1")
    auth.login(doctor)
    text = " ".join(pdf_text(client.get(f"/trainings/certificates/{certificate.enrolment_id}.pdf").data).split())
    assert "1 академический час" in text and "2 академических часа" not in text
    assert "академических часов: 1 " in client.get("/trainings/record").get_data(as_text=True)
    verified = client.get(f"/certificates/{certificate.number}").get_data(as_text=True)
    assert "1 академический час" in verified
