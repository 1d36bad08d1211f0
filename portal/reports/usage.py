"""The usage report of a clinic for a month: what the rooms, trainings and search were used for.

Occupancy is booked workstation-minutes (bookings booked, checked in or
completed) over open workstation-minutes: the room's opening hours in the
clinic's time zone, minus closures, times its workstations that are not
retired. The weekday × hour heatmap spreads both over local clock hours.
"""
from collections import defaultdict
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.booking.models import Booking
from portal.clinics.schedule import local_day_bounds, minutes, open_intervals
from portal.core import time
from portal.core.errors import Invalid
from portal.core.models import AuditEntry
from portal.core.time import to_local
from portal.extensions import db
from portal.search import services as search_services
from portal.training.models import Enrolment, TrainingSession

OCCUPYING_STATUSES = ("booked", "checked_in", "completed")
TREND_MONTHS = 6


def parse_month(text, clinic, now):
    """The first day of month "YYYY-MM" (years 2000–2100); empty means the current month in the clinic's zone."""
    if not text:
        return to_local(now, clinic.timezone).date().replace(day=1)
    first_day = time.parse_month(text)
    if first_day is None:
        raise Invalid(_("The month must look like 2026-11 (years 2000–2100)."), code="invalid_month", field="month")
    return first_day


def month_days(first_day):
    following = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_day, following - timedelta(days=1)


def previous_month(first_day):
    return (first_day - timedelta(days=1)).replace(day=1)


def _clip(start, end, bound_start, bound_end):
    return max(start, bound_start), min(end, bound_end)


def _spread_over_hours(intervals, tz_name, cells, weight=1):
    """Add the minutes of UTC intervals to cells[(weekday, hour)] of local clock hours."""
    for start, end in intervals:
        cursor = start
        while cursor < end:
            piece_end = min(cursor.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), end)
            local = to_local(cursor, tz_name)
            cells[(local.weekday(), local.hour)] += (piece_end - cursor).total_seconds() / 60 * weight
            cursor = piece_end


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


def _counted_workstations(room):
    return [ws for ws in room.workstations if ws.status != "retired"]


def _bookings(room_ids, start, end):
    if not room_ids:
        return []
    return db.session.scalars(select(Booking).where(
        Booking.room_id.in_(room_ids), Booking.start_at < end, Booking.end_at > start)).all()


def _occupancy(clinic, first_day, last_day, heatmap=None):
    """Per room and workstation: open and booked minutes; optionally fills heatmap cells."""
    start, end = local_day_bounds(clinic.timezone, first_day, last_day)
    rooms, booked_total, capacity_total = [], 0.0, 0.0
    bookings = _bookings([room.id for room in clinic.rooms], start, end)
    by_workstation = defaultdict(list)
    for booking in bookings:
        if booking.status in OCCUPYING_STATUSES:
            by_workstation[booking.workstation_id].append(_clip(booking.start_at, booking.end_at, start, end))
    for room in clinic.rooms:
        opened = open_intervals(room, first_day, last_day)
        open_minutes = minutes(opened)
        counted = _counted_workstations(room)
        workstations = [{"id": ws.id, "label": ws.label, "status": ws.status,
                         "booked_minutes": round(minutes(by_workstation[ws.id])),
                         "occupancy": _ratio(minutes(by_workstation[ws.id]), open_minutes)}
                        for ws in room.workstations]
        room_booked = sum(minutes(by_workstation[ws.id]) for ws in room.workstations)
        room_capacity = open_minutes * len(counted)
        booked_total += room_booked
        capacity_total += room_capacity
        rooms.append({"id": room.id, "name": room.name, "open_minutes": round(open_minutes),
                      "booked_minutes": round(room_booked), "occupancy": _ratio(room_booked, room_capacity),
                      "workstations": workstations})
        if heatmap is not None:
            _spread_over_hours(opened, clinic.timezone, heatmap["open"], weight=len(counted))
            for ws in room.workstations:
                _spread_over_hours(by_workstation[ws.id], clinic.timezone, heatmap["booked"])
    statuses = defaultdict(int)
    for booking in bookings:
        if start <= booking.start_at < end:
            statuses[booking.status] += 1
    return {"rooms": rooms, "occupancy": _ratio(booked_total, capacity_total), "statuses": statuses,
            "start": start, "end": end}


def _refused(clinic, start, end):
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.clinic_id == clinic.id, AuditEntry.action == "booking_refused",
        AuditEntry.at >= start, AuditEntry.at < end))


def _trainings(clinic, start, end):
    room_ids = [room.id for room in clinic.rooms]
    sessions = db.session.scalars(select(TrainingSession).where(
        TrainingSession.room_id.in_(room_ids), TrainingSession.start_at >= start, TrainingSession.start_at < end,
        TrainingSession.status != "cancelled").order_by(TrainingSession.start_at)).all() if room_ids else []
    counts = defaultdict(lambda: defaultdict(int))
    if sessions:
        for session_id, status, count in db.session.execute(
                select(Enrolment.session_id, Enrolment.status, func.count())
                .where(Enrolment.session_id.in_([s.id for s in sessions]))
                .group_by(Enrolment.session_id, Enrolment.status)):
            counts[session_id][status] = count
    items = [{"id": s.id, "title": s.course.title, "start": s.start_at.isoformat(), "capacity": s.capacity,
              "seats_taken": s.seats_taken, "fill_rate": _ratio(s.seats_taken, s.capacity),
              "waitlisted": counts[s.id]["waitlisted"], "attended": counts[s.id]["attended"]} for s in sessions]
    capacity = sum(s.capacity for s in sessions)
    taken = sum(s.seats_taken for s in sessions)
    return {"sessions": len(sessions), "capacity": capacity, "seats_taken": taken,
            "fill_rate": _ratio(taken, capacity), "waitlisted": sum(i["waitlisted"] for i in items),
            "attended": sum(i["attended"] for i in items), "items": items}


def _searches(clinic, start, end):
    # The search package's own statistics for one month: answers from the cache count as searches,
    # the median latency is the upstreams' (None when every answer came from the cache).
    return {row.source: {"searches": row.searches, "cached": row.cached, "errors": row.errors,
                         "median_latency_ms": row.median_latency_ms}
            for row in search_services.usage_statistics(clinic, since=start, until=end)}


def usage_report(clinic, first_day):
    """Everything the usage page, its CSV and GET /api/v1/reports/usage show, for one month."""
    first_day, last_day = month_days(first_day)
    cells = {"open": defaultdict(float), "booked": defaultdict(float)}
    current = _occupancy(clinic, first_day, last_day, heatmap=cells)
    start, end = local_day_bounds(clinic.timezone, first_day, last_day)
    statuses = current["statuses"]
    trend, month = [], first_day
    for _step in range(TREND_MONTHS):
        month_first, month_last = month_days(month)
        occupancy = current if month == first_day else _occupancy(clinic, month_first, month_last)
        month_start, month_end = local_day_bounds(clinic.timezone, month_first, month_last)
        trend.append({"month": month.strftime("%Y-%m"), "occupancy": occupancy["occupancy"],
                      "bookings": sum(occupancy["statuses"].values()),
                      "no_shows": occupancy["statuses"]["no_show"],
                      "searches": sum(s["searches"] for s in _searches(clinic, month_start, month_end).values())})
        month = previous_month(month)
    return {
        "clinic": {"id": clinic.id, "name": clinic.name, "timezone": clinic.timezone},
        "month": first_day.strftime("%Y-%m"),
        "occupancy": current["occupancy"],
        "rooms": current["rooms"],
        "bookings": {"total": sum(statuses.values()), "booked": statuses["booked"],
                     "checked_in": statuses["checked_in"], "completed": statuses["completed"],
                     "cancelled": statuses["cancelled"], "no_shows": statuses["no_show"],
                     "refused": _refused(clinic, start, end)},
        "trainings": _trainings(clinic, start, end),
        "searches": _searches(clinic, start, end),
        "heatmap": [{"weekday": weekday, "hour": hour, "open_minutes": round(open_minutes),
                     "booked_minutes": round(cells["booked"][(weekday, hour)]),
                     "occupancy": _ratio(cells["booked"][(weekday, hour)], open_minutes)}
                    for (weekday, hour), open_minutes in sorted(cells["open"].items()) if open_minutes],
        "trend": list(reversed(trend)),
    }


def csv_rows(report):
    """The report as rows of a long-format table: section, item, metric, value."""
    yield ("section", "item", "metric", "value")
    yield ("clinic", report["clinic"]["name"], "month", report["month"])
    yield ("clinic", report["clinic"]["name"], "occupancy", report["occupancy"])
    for room in report["rooms"]:
        for metric in ("open_minutes", "booked_minutes", "occupancy"):
            yield ("room", room["name"], metric, room[metric])
        for ws in room["workstations"]:
            for metric in ("booked_minutes", "occupancy"):
                yield ("workstation", f"{room['name']} / {ws['label']}", metric, ws[metric])
    for metric, value in report["bookings"].items():
        yield ("bookings", "", metric, value)
    for metric in ("sessions", "capacity", "seats_taken", "fill_rate", "waitlisted", "attended"):
        yield ("trainings", "", metric, report["trainings"][metric])
    for session in report["trainings"]["items"]:
        for metric in ("capacity", "seats_taken", "fill_rate", "waitlisted", "attended"):
            yield ("training_session", f"{session['start'][:16]} {session['title']}", metric, session[metric])
    for source, stats in report["searches"].items():
        for metric, value in stats.items():
            yield ("searches", source, metric, value)
    for cell in report["heatmap"]:
        yield ("heatmap", f"{cell['weekday']}:{cell['hour']:02d}", "occupancy", cell["occupancy"])
    for point in report["trend"]:
        for metric in ("occupancy", "bookings", "no_shows", "searches"):
            yield ("trend", point["month"], metric, point[metric])
