"""The city's view: every clinic side by side for one month, to see where demand outruns the rooms.

Per clinic: occupancy (booked over open workstation-minutes, as in the usage
report), bookings refused for lack of a free workstation and how many of those
doctors booked something else in the clinic within half an hour (an alternative
taken) or went away, no-show rate, training seats filled and waitlists, and
searches. Each figure is one GROUP BY over an indexed range of the month for all
clinics at once; only the rooms' open time is computed in Python, from their
opening hours and closures read in two queries.

A clinic "needs more computers" when its rooms are mostly booked or more doctors
went away without a computer than it has computers; it "needs more trainings"
when its sessions are nearly full and doctors wait for seats.
"""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Interval, and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from portal.booking.models import OCCUPYING_STATUSES, Booking
from portal.clinics.models import Clinic, Closure, Room, Workstation
from portal.clinics.schedule import local_day_bounds, minutes, subtract, weekly_intervals
from portal.core.models import AuditEntry
from portal.extensions import db
from portal.reports.months import month_days
from portal.search.services import searches_by_clinic
from portal.training.models import Enrolment, TrainingSession

# Bookings that reached their start: the no-show rate is no-shows among them.
DUE_STATUSES = ("checked_in", "completed", "no_show")
# Refusals that mean "no computer was free": the chosen one was taken, or "book now" found none free.
NO_FREE_WORKSTATION = ("slot_taken", "no_free_workstation")
ALTERNATIVE_WINDOW = timedelta(minutes=30)
# Bookings never last longer than a day (the policy's limit), so a month's bookings start at most
# a day before it: the start_at range stays bounded and indexed.
LONGEST_BOOKING = timedelta(days=1)

BUSY_OCCUPANCY = 0.8
FULL_TRAININGS = 0.9

METRICS = (
    "occupancy",
    "workstations",
    "bookings",
    "refused",
    "alternatives_taken",
    "went_away",
    "no_show_rate",
    "sessions",
    "seats",
    "seats_taken",
    "fill_rate",
    "waitlisted",
    "searches",
    "search_errors",
)


def city_report(first_day, *, include_inactive=False):
    """Every clinic's figures for the local month starting `first_day`, by clinic name."""
    first_day, last_day = month_days(first_day)
    query = select(Clinic).order_by(Clinic.name)
    if not include_inactive:
        query = query.where(Clinic.active.is_(True))
    clinics = db.session.scalars(query).all()
    rows = {clinic.id: _empty_row(clinic) for clinic in clinics}
    by_zone = defaultdict(list)
    for clinic in clinics:
        by_zone[clinic.timezone].append(clinic.id)
    # Clinics in one time zone share the month's bounds: one round of queries per zone (Moscow's only, today).
    for tz_name, clinic_ids in by_zone.items():
        start, end = local_day_bounds(tz_name, first_day, last_day)
        _add_open_time(rows, clinic_ids, first_day, last_day, start, end)
        _add_bookings(rows, clinic_ids, start, end)
        _add_refusals(rows, clinic_ids, start, end)
        _add_trainings(rows, clinic_ids, start, end)
        for clinic_id, (searches, errors) in searches_by_clinic(clinic_ids, since=start, until=end).items():
            rows[clinic_id]["searches"], rows[clinic_id]["search_errors"] = searches, errors
    return {
        "month": first_day.strftime("%Y-%m"),
        "clinics": [_finish(row) for row in rows.values()],
        "thresholds": {"occupancy": BUSY_OCCUPANCY, "fill_rate": FULL_TRAININGS},
    }


def _empty_row(clinic):
    return {
        "clinic": {
            "id": clinic.id,
            "name": clinic.name,
            "short_name": clinic.short_name,
            "code": clinic.code,
            "active": clinic.active,
        },
        "open_minutes": 0.0,
        "booked_minutes": 0.0,
        "workstations": 0,
        "bookings": 0,
        "due": 0,
        "no_shows": 0,
        "refused": 0,
        "alternatives_taken": 0,
        "sessions": 0,
        "seats": 0,
        "seats_taken": 0,
        "waitlisted": 0,
        "searches": 0,
        "search_errors": 0,
    }


def _add_open_time(rows, clinic_ids, first_day, last_day, start, end):
    """Open workstation-minutes: each room's opening hours minus closures, times its workstations in use
    (as the usage report's open_intervals, with the closures of every room read at once)."""
    rooms = db.session.scalars(
        select(Room).where(Room.clinic_id.in_(clinic_ids)).options(selectinload(Room.opening_hours))
    ).all()
    closures = defaultdict(list)
    for room_id, closure_start, closure_end in db.session.execute(
        select(Closure.room_id, Closure.start_at, Closure.end_at)
        .join(Room, Closure.room_id == Room.id)
        .where(Room.clinic_id.in_(clinic_ids), Closure.start_at < end, Closure.end_at > start)
    ):
        closures[room_id].append((closure_start, closure_end))
    counted = dict(
        db.session.execute(
            select(Workstation.room_id, func.count())
            .join(Room, Workstation.room_id == Room.id)
            .where(Room.clinic_id.in_(clinic_ids), Workstation.status != "retired")
            .group_by(Workstation.room_id)
        ).all()
    )
    # Most rooms keep the same hours: each distinct week is turned into the month's UTC intervals once.
    months_of_weeks = {}
    for room in rooms:
        workstations = counted.get(room.id, 0)
        row = rows[room.clinic_id]
        row["workstations"] += workstations
        if not workstations:
            continue
        week = (room.timezone, tuple((hours.weekday, hours.opens, hours.closes) for hours in room.opening_hours))
        if week not in months_of_weeks:
            months_of_weeks[week] = weekly_intervals(room, first_day, last_day)
        row["open_minutes"] += minutes(subtract(months_of_weeks[week], closures[room.id])) * workstations


def _minutes_between(earlier, later):
    """`later - earlier` in minutes, in SQL: PostgreSQL subtracts timestamps; SQLite keeps UTC times as
    ISO text, which julianday turns into days."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 60
    return (func.julianday(later) - func.julianday(earlier)) * 1440


def _later(moment, delta):
    """`moment + delta` in SQL, still comparable with the column's values (and an index range on them)."""
    if db.engine.dialect.name == "postgresql":
        return moment + literal(delta, Interval())
    return func.datetime(moment, f"+{int(delta.total_seconds())} seconds")


def _overlap_minutes(start, end):
    """Minutes of a booking inside [start, end)."""
    if db.engine.dialect.name == "postgresql":
        return _minutes_between(func.greatest(Booking.start_at, start), func.least(Booking.end_at, end))
    # SQLite's two-argument min and max are its least and greatest (ISO text compares as time).
    return _minutes_between(func.max(Booking.start_at, start), func.min(Booking.end_at, end))


def _add_bookings(rows, clinic_ids, start, end):
    starts_in_month = Booking.start_at >= start
    statement = (
        select(
            Room.clinic_id,
            func.sum(case((Booking.status.in_(OCCUPYING_STATUSES), _overlap_minutes(start, end)), else_=0)),
            func.sum(case((starts_in_month, 1), else_=0)),
            func.sum(case((and_(starts_in_month, Booking.status.in_(DUE_STATUSES)), 1), else_=0)),
            func.sum(case((and_(starts_in_month, Booking.status == "no_show"), 1), else_=0)),
        )
        .join(Room, Booking.room_id == Room.id)
        .where(
            Room.clinic_id.in_(clinic_ids),
            Booking.start_at >= start - LONGEST_BOOKING,
            Booking.start_at < end,
            Booking.end_at > start,
        )
        .group_by(Room.clinic_id)
    )
    for clinic_id, booked, bookings, due, no_shows in db.session.execute(statement):
        row = rows[clinic_id]
        row["booked_minutes"] = float(booked or 0)
        row["bookings"], row["due"], row["no_shows"] = int(bookings or 0), int(due or 0), int(no_shows or 0)


def _add_refusals(rows, clinic_ids, start, end):
    """Refusals for lack of a free workstation, and those followed by the same doctor's booking in the clinic."""
    refusal, booked = AuditEntry, aliased(AuditEntry)
    took_alternative = exists().where(
        booked.actor_id == refusal.actor_id,
        booked.action == "booking_created",
        booked.clinic_id == refusal.clinic_id,
        booked.at > refusal.at,
        booked.at <= _later(refusal.at, ALTERNATIVE_WINDOW),
    )
    statement = (
        select(refusal.clinic_id, func.count(), func.sum(case((took_alternative, 1), else_=0)))
        .where(
            refusal.clinic_id.in_(clinic_ids),
            refusal.at >= start,
            refusal.at < end,
            refusal.action == "booking_refused",
            refusal.details["code"].as_string().in_(NO_FREE_WORKSTATION),
        )
        .group_by(refusal.clinic_id)
    )
    for clinic_id, refused, alternatives in db.session.execute(statement):
        rows[clinic_id]["refused"], rows[clinic_id]["alternatives_taken"] = refused, int(alternatives or 0)


def _add_trainings(rows, clinic_ids, start, end):
    held = (
        TrainingSession.start_at >= start,
        TrainingSession.start_at < end,
        TrainingSession.status != "cancelled",
        Room.clinic_id.in_(clinic_ids),
    )
    for clinic_id, sessions, seats, taken in db.session.execute(
        select(Room.clinic_id, func.count(), func.sum(TrainingSession.capacity), func.sum(TrainingSession.seats_taken))
        .join(Room, TrainingSession.room_id == Room.id)
        .where(*held)
        .group_by(Room.clinic_id)
    ):
        rows[clinic_id].update(sessions=sessions, seats=int(seats or 0), seats_taken=int(taken or 0))
    for clinic_id, waitlisted in db.session.execute(
        select(Room.clinic_id, func.count())
        .select_from(Enrolment)
        .join(TrainingSession, Enrolment.session_id == TrainingSession.id)
        .join(Room, TrainingSession.room_id == Room.id)
        .where(*held, Enrolment.status == "waitlisted")
        .group_by(Room.clinic_id)
    ):
        rows[clinic_id]["waitlisted"] = waitlisted


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


def _finish(row):
    row["occupancy"] = _ratio(row["booked_minutes"], row["open_minutes"])
    row["no_show_rate"] = _ratio(row["no_shows"], row["due"])
    row["fill_rate"] = _ratio(row["seats_taken"], row["seats"])
    row["went_away"] = row["refused"] - row["alternatives_taken"]
    row["open_minutes"], row["booked_minutes"] = round(row["open_minutes"]), round(row["booked_minutes"])
    row["needs"] = needs(row)
    return row


def needs(row):
    """What the clinic's figures ask the city for: "computers", "trainings", both, or nothing."""
    wanted = []
    if (row["occupancy"] or 0) >= BUSY_OCCUPANCY or (row["workstations"] and row["went_away"] > row["workstations"]):
        wanted.append("computers")
    if (row["fill_rate"] or 0) >= FULL_TRAININGS and row["waitlisted"] > 0:
        wanted.append("trainings")
    return wanted


def sorted_clinics(report, key, descending):
    """The report's clinics by one metric (clinics without a value last), or by name for an unknown key."""
    if key not in METRICS:
        return sorted(report["clinics"], key=lambda row: row["clinic"]["name"])
    present = [row for row in report["clinics"] if row[key] is not None]
    missing = [row for row in report["clinics"] if row[key] is None]
    return sorted(present, key=lambda row: row[key], reverse=descending) + missing


CSV_COLUMNS = ("code", "short_name", "name", "active", *METRICS, "open_minutes", "booked_minutes", "no_shows", "needs")


def csv_rows(report, clinics):
    """One line per clinic, the columns of CSV_COLUMNS."""
    yield ("month", *CSV_COLUMNS)
    for row in clinics:
        clinic = row["clinic"]
        yield (
            report["month"],
            clinic["code"] or "",
            clinic["short_name"],
            clinic["name"],
            clinic["active"],
            *(row[metric] for metric in METRICS),
            row["open_minutes"],
            row["booked_minutes"],
            row["no_shows"],
            " ".join(row["needs"]),
        )
