"""The city's view: every clinic compared for a month, with figures worked out by hand from a
known October (rooms open on Mondays 09:00–10:00 Moscow time: 5, 12, 19 and 26 October 2026)."""

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from portal.booking.models import Booking
from portal.core.models import AuditEntry
from portal.core.time import local_to_utc
from portal.extensions import db
from portal.reports.city import city_report
from portal.search.models import SearchEvent
from portal.training.models import Course, Enrolment, TrainingSession

MONDAYS = [date(2026, 10, day) for day in (5, 12, 19, 26)]


def moscow(day, hour, minute=0):
    return local_to_utc(datetime.combine(day, time(hour, minute)), "Europe/Moscow")


def booking(workstation, user, day, status, minutes=60):
    start = moscow(day, 9)
    db.session.add(
        Booking(
            user_id=user.id,
            workstation_id=workstation.id,
            room_id=workstation.room_id,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            status=status,
        )
    )


def audit(action, user, clinic, at, **details):
    db.session.add(AuditEntry(action=action, actor_id=user.id, clinic_id=clinic.id, at=at, details=details))


@pytest.fixture
def city(make_room, make_workstation, make_user, make_clinic):
    """Clinic A is busy (computers wanted), clinic B's trainings are full (trainings wanted), C is new."""
    busy = make_room(clinic=make_clinic(short_name="ДГП-1", code="0001"), hours=((time(9), time(10)),), weekdays=[0])
    full = make_room(clinic=make_clinic(short_name="ДГП-2", code="0002"), hours=((time(9), time(10)),), weekdays=[0])
    quiet = make_clinic(short_name="ДГП-3", code="0003")
    a1, a2 = make_workstation(room=busy), make_workstation(room=busy)
    make_workstation(room=busy, status="retired")
    b1 = make_workstation(room=full)
    doctors = [make_user(clinic=busy.clinic) for _ in range(3)]
    colleague = make_user(clinic=full.clinic)
    for day in MONDAYS:
        booking(a1, doctors[0], day, "completed")
        booking(a2, doctors[1], day, "no_show" if day == MONDAYS[0] else "completed")
    booking(a1, doctors[2], date(2026, 9, 28), "completed")  # September: not counted
    booking(b1, colleague, MONDAYS[1], "completed", minutes=30)
    refused_at = moscow(MONDAYS[2], 8, 50)
    for doctor in doctors:
        audit("booking_refused", doctor, busy.clinic, refused_at, code="slot_taken")
    audit("booking_refused", doctors[0], busy.clinic, refused_at, code="quota_exceeded")  # not for lack of a PC
    audit("booking_created", doctors[0], busy.clinic, refused_at + timedelta(minutes=10))
    audit("booking_created", doctors[1], busy.clinic, refused_at + timedelta(minutes=45))  # too late to count
    audit("booking_refused", doctors[2], busy.clinic, moscow(date(2026, 11, 2), 9), code="slot_taken")
    course = Course(clinic_id=full.clinic_id, title="Поиск в PubMed", academic_hours=Decimal("2"))
    db.session.add(course)
    db.session.flush()
    held = TrainingSession(
        course_id=course.id,
        room_id=full.id,
        start_at=moscow(MONDAYS[3], 9),
        end_at=moscow(MONDAYS[3], 10),
        capacity=4,
        seats_taken=4,
        status="completed",
    )
    dropped = TrainingSession(
        course_id=course.id,
        room_id=full.id,
        start_at=moscow(MONDAYS[0], 9),
        end_at=moscow(MONDAYS[0], 10),
        capacity=10,
        seats_taken=0,
        status="cancelled",
    )
    db.session.add_all([held, dropped])
    db.session.flush()
    for number in range(2):
        waiting = make_user(clinic=full.clinic)
        db.session.add(Enrolment(session_id=held.id, user_id=waiting.id, status="waitlisted", waitlist_seq=number))
    for ok in (True, True, False):
        db.session.add(
            SearchEvent(clinic_id=full.clinic_id, source="pubmed", at=moscow(MONDAYS[1], 12), ok=ok, latency_ms=300)
        )
    db.session.commit()
    return {"busy": busy.clinic, "full": full.clinic, "quiet": quiet}


def row_of(report, clinic):
    return next(row for row in report["clinics"] if row["clinic"]["id"] == clinic.id)


def test_every_clinic_is_compared_with_figures_from_the_database(app, city):
    report = city_report(date(2026, 10, 1))
    assert report["month"] == "2026-10"
    busy = row_of(report, city["busy"])
    # Two counted computers × four Mondays × 60 min open; booked: 4 × 60 + 3 × 60 (a no-show frees its time).
    assert (busy["open_minutes"], busy["booked_minutes"], busy["occupancy"]) == (480, 420, 0.875)
    assert (busy["workstations"], busy["bookings"], busy["no_show_rate"]) == (2, 8, 0.125)
    assert (busy["refused"], busy["alternatives_taken"], busy["went_away"]) == (3, 1, 2)
    assert (busy["sessions"], busy["fill_rate"], busy["searches"]) == (0, None, 0)
    assert busy["needs"] == ["computers"]
    full = row_of(report, city["full"])
    assert (full["occupancy"], full["bookings"], full["refused"]) == (0.125, 1, 0)
    assert (full["sessions"], full["seats"], full["seats_taken"], full["fill_rate"], full["waitlisted"]) == (
        1,
        4,
        4,
        1.0,
        2,
    )
    assert (full["searches"], full["search_errors"]) == (3, 1)
    assert full["needs"] == ["trainings"]
    quiet = row_of(report, city["quiet"])
    assert (quiet["occupancy"], quiet["bookings"], quiet["needs"]) == (None, 0, [])


def test_a_deactivated_clinic_is_left_out_unless_asked_for(app, city):
    city["quiet"].active = False
    db.session.commit()
    assert city["quiet"].id not in [row["clinic"]["id"] for row in city_report(date(2026, 10, 1))["clinics"]]
    assert city["quiet"].id in [
        row["clinic"]["id"] for row in city_report(date(2026, 10, 1), include_inactive=True)["clinics"]
    ]


def short_names_in_order(html):
    """The clinics in the order the table lists them (each links its short name to its usage report)."""
    return sorted(("ДГП-1", "ДГП-2", "ДГП-3"), key=lambda name: html.index(f">{name}</a>"))


def test_the_page_sorts_draws_and_answers_the_question(auth, client, make_user, city):
    auth.login(make_user("superadmin"))
    page = client.get("/admin/city?month=2026-10")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert short_names_in_order(html) == ["ДГП-1", "ДГП-2", "ДГП-3"]  # by occupancy, highest first
    assert html.count("<circle") == 3 and "больше компьютеров" in html and "больше обучений" in html
    by_waitlist = client.get("/admin/city?month=2026-10&sort=waitlisted&order=desc").get_data(as_text=True)
    assert short_names_in_order(by_waitlist)[0] == "ДГП-2"
    ascending = client.get("/admin/city?month=2026-10&sort=occupancy&order=asc").get_data(as_text=True)
    assert short_names_in_order(ascending) == ["ДГП-2", "ДГП-1", "ДГП-3"]  # no figure: last either way


def test_the_csv_has_a_line_per_clinic(auth, client, make_user, city):
    auth.login(make_user("superadmin"))
    answer = client.get("/admin/city.csv?month=2026-10&sort=refused")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="city-2026-10.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["short_name"] for row in rows][0] == "ДГП-1"
    first = rows[0]
    assert (first["code"], first["occupancy"], first["refused"], first["went_away"], first["needs"]) == (
        "0001",
        "0.875",
        "3",
        "2",
        "computers",
    )


def test_the_csv_shows_a_formula_in_a_clinics_name_as_text(auth, client, make_user, make_clinic):
    make_clinic(name='=HYPERLINK("http://evil.example")', short_name="-ДГП-9", code="0009")
    auth.login(make_user("superadmin"))
    answer = client.get("/admin/city.csv?month=2026-10")
    (row,) = csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")))
    assert (row["name"], row["short_name"]) == ('\'=HYPERLINK("http://evil.example")', "'-ДГП-9")


@pytest.mark.parametrize("month", ["October", "1900-10", "2026-13"])
def test_a_malformed_month_is_refused_with_a_message(auth, client, make_user, city, month):
    auth.login(make_user("superadmin"))
    answer = client.get(f"/admin/city?month={month}")
    assert answer.status_code == 400
    assert "Месяц указывается так: 2026-11 (с 2000 по 2100 год)." in answer.get_data(as_text=True)
