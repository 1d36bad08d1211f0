"""Training fixtures: a clinic with a 12-seat room, its trainer, admin and doctors, a course,
and factories for sessions ahead of now and sessions that have already started."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from portal.core.db import utcnow
from portal.core.time import local_to_utc, to_local
from portal.extensions import db

MOSCOW = "Europe/Moscow"


def local(days_ahead, hour, minute=0, timezone=MOSCOW):
    """UTC time of hour:minute local time, `days_ahead` local days from today."""
    today = to_local(utcnow(), timezone).date()
    return local_to_utc(datetime.combine(today + timedelta(days=days_ahead), time(hour, minute)), timezone)


@pytest.fixture
def clinic(make_clinic):
    return make_clinic(name="Детская городская поликлиника № 94", short_name="ДГП-94")


@pytest.fixture
def room(make_room, clinic):
    return make_room(clinic=clinic, name="Кабинет профессионального роста", capacity=12)


@pytest.fixture
def trainer(make_user, clinic):
    return make_user(role="trainer", clinic=clinic, full_name="Игорь Павлович Лекторов")


@pytest.fixture
def admin(make_user, clinic):
    return make_user(role="admin", clinic=clinic, full_name="Анна Сергеевна Администраторова")


@pytest.fixture
def doctor(make_user, clinic):
    return make_user(role="doctor", clinic=clinic, full_name="Мария Ивановна Петрова")


@pytest.fixture
def course(app, clinic, trainer):
    from portal.training.models import Course

    course = Course(
        clinic_id=clinic.id,
        title="Анафилаксия у детей",
        description="Неотложная помощь",
        trainer_id=trainer.id,
        academic_hours=Decimal("2"),
        nmo_id="НМО-2026-04512",
    )
    db.session.add(course)
    db.session.commit()
    return course


@pytest.fixture
def schedule(app, trainer, course, room):
    """schedule(start=…, minutes=90, capacity=5, …) → a committed session, scheduled through the service."""
    from portal.training import scheduling

    def make(start=None, minutes=90, capacity=5, whole_room=False, in_room=None, of_course=None):
        start = start or local(2, 10)
        training = scheduling.schedule_session(
            trainer,
            course=of_course or course,
            room=in_room or room,
            start=start,
            end=start + timedelta(minutes=minutes),
            capacity=capacity,
            whole_room=whole_room,
            now=utcnow(),
        )
        db.session.commit()
        return training

    return make


@pytest.fixture
def started_session(app, trainer, course, room):
    """started_session(enrolled=[users], minutes_ago=10) → a 90-minute session that began `minutes_ago`,
    its doctors enrolled the day before.

    Written directly: the scheduling rules (rightly) refuse a start in the past.
    """
    from portal.training import enrolling
    from portal.training.models import TrainingSession

    def make(enrolled=(), capacity=5, minutes_ago=10):
        start = utcnow() - timedelta(minutes=minutes_ago)
        training = TrainingSession(
            course_id=course.id,
            room_id=room.id,
            start_at=start,
            end_at=start + timedelta(minutes=90),
            capacity=capacity,
            created_by_id=trainer.id,
        )
        db.session.add(training)
        db.session.flush()
        for user in enrolled:
            enrolling.enrol(user, training, now=start - timedelta(days=1))
        db.session.commit()
        return training

    return make
