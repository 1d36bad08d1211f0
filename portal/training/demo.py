"""Demo courses and sessions: one coming up with free seats, one full with a waitlist, one past and attended."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.core.db import utcnow
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from portal.training import attendance, courses, enrolling, scheduling
from portal.training.models import Course

TRAINER = "trainer@dgp94.demo.portal"
DOCTORS = ("doctor@dgp94.demo.portal", "doctor2@dgp94.demo.portal")

COURSES = [
    {
        "title": "Анафилаксия у детей: неотложная помощь на приёме",
        "academic_hours": 2,
        "nmo_id": "НМО-2026-04512",
        "description": "Алгоритм действий, дозировки адреналина, разбор клинических случаев.",
    },
    {
        "title": "Поиск в PubMed и Europe PMC для педиатра",
        "academic_hours": 1,
        "nmo_id": None,
        "description": "Запросы, фильтры, сохранение ссылок и работа со списком литературы.",
    },
]


def _next_weekday(after, weekday, timezone):
    """The local date of the next `weekday` (0 = Monday) strictly after `after`."""
    day = to_local(after, timezone).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def _at(day, hour, timezone):
    return local_to_utc(datetime.combine(day, time(hour)), timezone)


def seed_demo(context):
    trainer = context["users"][TRAINER]
    doctors = [context["users"][email] for email in DOCTORS]
    room = context["rooms"][0]
    timezone = room.timezone
    now = utcnow()
    created = []
    for spec in COURSES:
        course = db.session.scalar(
            select(Course).where(Course.clinic_id == room.clinic_id, Course.title == spec["title"])
        )
        if course is None:
            course = courses.create_course(trainer, room.clinic_id, now=now, **spec)
            created.append(course)
    if not created:
        return  # already seeded: the courses and their sessions exist
    anaphylaxis, pubmed = created

    tuesday = _next_weekday(now, 1, timezone)
    scheduling.schedule_session(
        trainer,
        course=anaphylaxis,
        room=room,
        start=_at(tuesday, 14, timezone),
        end=_at(tuesday, 14, timezone) + timedelta(minutes=90),
        capacity=room.capacity,
        now=now,
    )
    thursday = _next_weekday(now, 3, timezone)
    full = scheduling.schedule_session(
        trainer,
        course=pubmed,
        room=room,
        start=_at(thursday, 16, timezone),
        end=_at(thursday, 16, timezone) + timedelta(minutes=45),
        capacity=1,
        now=now,
    )
    for doctor in doctors:
        enrolling.enrol(doctor, full, now=now)

    # A session last week, scheduled and attended "back then" (the services take `now` explicitly).
    past_day = to_local(now, timezone).date() - timedelta(days=7)
    while past_day.weekday() > 4:
        past_day -= timedelta(days=1)
    start = _at(past_day, 10, timezone)
    then = start - timedelta(days=7)
    past = scheduling.schedule_session(
        trainer,
        course=anaphylaxis,
        room=room,
        start=start,
        end=start + timedelta(minutes=90),
        capacity=room.capacity,
        now=then,
    )
    enrolling.enrol(doctors[0], past, now=then)
    attendance.mark_attendance(trainer, past, doctors[0].id, True, now=start + timedelta(minutes=90))
