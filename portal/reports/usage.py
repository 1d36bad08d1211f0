"""The usage report of a clinic for a month: what the rooms, trainings and search were used for.

Occupancy is booked workstation-minutes (bookings booked, checked in or
completed) over open workstation-minutes: the room's opening hours in the
clinic's time zone, minus closures, times its workstations that are not
retired. The weekday × hour heatmap spreads both over local clock hours.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import format_date, pgettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.booking.models import OCCUPYING_STATUSES, Booking
from portal.clinics.schedule import local_day_bounds, minutes, open_intervals
from portal.core.models import AuditEntry
from portal.core.time import to_local
from portal.extensions import db
from portal.reports.charts import percent_figure
from portal.reports.months import month_days, previous_month
from portal.search import services as search_services
from portal.training.models import Enrolment, TrainingSession

TREND_MONTHS = 6


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
    return db.session.scalars(
        select(Booking).where(Booking.room_id.in_(room_ids), Booking.start_at < end, Booking.end_at > start)
    ).all()


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
        workstations = [
            {
                "id": ws.id,
                "label": ws.label,
                "status": ws.status,
                "booked_minutes": round(minutes(by_workstation[ws.id])),
                "occupancy": _ratio(minutes(by_workstation[ws.id]), open_minutes),
            }
            for ws in room.workstations
        ]
        room_booked = sum(minutes(by_workstation[ws.id]) for ws in room.workstations)
        room_capacity = open_minutes * len(counted)
        booked_total += room_booked
        capacity_total += room_capacity
        rooms.append(
            {
                "id": room.id,
                "name": room.name,
                "open_minutes": round(open_minutes),
                "booked_minutes": round(room_booked),
                "occupancy": _ratio(room_booked, room_capacity),
                "workstations": workstations,
            }
        )
        if heatmap is not None:
            _spread_over_hours(opened, clinic.timezone, heatmap["open"], weight=len(counted))
            for ws in room.workstations:
                _spread_over_hours(by_workstation[ws.id], clinic.timezone, heatmap["booked"])
    statuses = defaultdict(int)
    for booking in bookings:
        if start <= booking.start_at < end:
            statuses[booking.status] += 1
    return {
        "rooms": rooms,
        "occupancy": _ratio(booked_total, capacity_total),
        "statuses": statuses,
        "start": start,
        "end": end,
    }


def _refused(clinic, start, end):
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.clinic_id == clinic.id,
            AuditEntry.action == "booking_refused",
            AuditEntry.at >= start,
            AuditEntry.at < end,
        )
    )


def _trainings(clinic, start, end):
    room_ids = [room.id for room in clinic.rooms]
    sessions = (
        db.session.scalars(
            select(TrainingSession)
            .where(
                TrainingSession.room_id.in_(room_ids),
                TrainingSession.start_at >= start,
                TrainingSession.start_at < end,
                TrainingSession.status != "cancelled",
            )
            .order_by(TrainingSession.start_at)
        ).all()
        if room_ids
        else []
    )
    counts = defaultdict(lambda: defaultdict(int))
    if sessions:
        for session_id, status, count in db.session.execute(
            select(Enrolment.session_id, Enrolment.status, func.count())
            .where(Enrolment.session_id.in_([s.id for s in sessions]))
            .group_by(Enrolment.session_id, Enrolment.status)
        ):
            counts[session_id][status] = count
    items = [
        {
            "id": s.id,
            "title": s.course.title,
            "start": s.start_at.isoformat(),
            "capacity": s.capacity,
            "seats_taken": s.seats_taken,
            "fill_rate": _ratio(s.seats_taken, s.capacity),
            "waitlisted": counts[s.id]["waitlisted"],
            "attended": counts[s.id]["attended"],
        }
        for s in sessions
    ]
    capacity = sum(s.capacity for s in sessions)
    taken = sum(s.seats_taken for s in sessions)
    return {
        "sessions": len(sessions),
        "capacity": capacity,
        "seats_taken": taken,
        "fill_rate": _ratio(taken, capacity),
        "waitlisted": sum(i["waitlisted"] for i in items),
        "attended": sum(i["attended"] for i in items),
        "items": items,
    }


def _searches(clinic, start, end):
    # The search package's own statistics for one month: answers from the cache count as searches,
    # the median latency is the upstreams' (None when every answer came from the cache).
    return {
        row.source: {
            "searches": row.searches,
            "cached": row.cached,
            "errors": row.errors,
            "median_latency_ms": row.median_latency_ms,
        }
        for row in search_services.usage_statistics(clinic, since=start, until=end)
    }


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
        trend.append(
            {
                "month": month.strftime("%Y-%m"),
                "occupancy": occupancy["occupancy"],
                "bookings": sum(occupancy["statuses"].values()),
                "no_shows": occupancy["statuses"]["no_show"],
                "searches": sum(s["searches"] for s in _searches(clinic, month_start, month_end).values()),
            }
        )
        month = previous_month(month)
    return {
        "clinic": {"id": clinic.id, "name": clinic.name, "timezone": clinic.timezone},
        "month": first_day.strftime("%Y-%m"),
        "occupancy": current["occupancy"],
        "rooms": current["rooms"],
        "bookings": {
            "total": sum(statuses.values()),
            "booked": statuses["booked"],
            "checked_in": statuses["checked_in"],
            "completed": statuses["completed"],
            "cancelled": statuses["cancelled"],
            "no_shows": statuses["no_show"],
            "refused": _refused(clinic, start, end),
        },
        "trainings": _trainings(clinic, start, end),
        "searches": _searches(clinic, start, end),
        "heatmap": [
            {
                "weekday": weekday,
                "hour": hour,
                "open_minutes": round(open_minutes),
                "booked_minutes": round(cells["booked"][(weekday, hour)]),
                "occupancy": _ratio(cells["booked"][(weekday, hour)], open_minutes),
            }
            for (weekday, hour), open_minutes in sorted(cells["open"].items())
            if open_minutes
        ],
        "trend": list(reversed(trend)),
    }


def hours_figure(minutes):
    """Minutes as hours with one decimal (rounded half up), as the usage page and its CSV show them."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def source_label(source):
    """A search source's name as the search pages show it ("PubMed"), not its id."""
    return str(search_services.SOURCE_LABELS.get(source, source))


def month_label(month, width="wide"):
    """ "2026-01" as "январь 2026", or abbreviated "янв. 2026" (in the language of the page)."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "LLLL yyyy" if width == "wide" else "LLL yyyy")


def csv_rows(report, weekday_names):
    """The figures of the usage page, as the page shows them (hours and percentages with one decimal,
    sources by name), in a long table: section, item, figure, value."""
    occupancy, hours = _("Occupancy, %"), _("Booked, h")
    yield (_("Section"), _("Item"), _("Figure"), _("Value"))
    clinic = report["clinic"]["name"]
    yield (_("Clinic"), clinic, _("Month"), month_label(report["month"]))
    yield (_("Clinic"), clinic, occupancy, percent_figure(report["occupancy"], 1))
    section = _("Rooms and workstations")
    for room in report["rooms"]:
        yield (section, room["name"], _("Open, h"), hours_figure(room["open_minutes"]))
        yield (section, room["name"], hours, hours_figure(room["booked_minutes"]))
        yield (section, room["name"], occupancy, percent_figure(room["occupancy"], 1))
        for ws in room["workstations"]:
            item = f"{room['name']} / {ws['label']}"
            yield (section, item, hours, hours_figure(ws["booked_minutes"]))
            yield (section, item, occupancy, percent_figure(ws["occupancy"], 1))
    bookings = report["bookings"]
    for label, key in (
        (_("All bookings"), "total"),
        (_("Completed"), "completed"),
        (_("No-shows"), "no_shows"),
        (pgettext("bookings", "Cancelled"), "cancelled"),
        (_("Refused by the rules"), "refused"),
    ):
        yield (_("Bookings"), "", label, bookings[key])
    trainings = report["trainings"]
    yield (_("Trainings"), _("All sessions"), _("Sessions"), trainings["sessions"])
    for item, figures in (
        (_("All sessions"), trainings),
        *((session["title"], session) for session in trainings["items"]),
    ):
        for label, value in (
            (_("Seats"), figures["capacity"]),
            (_("Seats taken"), figures["seats_taken"]),
            (_("Fill rate, %"), percent_figure(figures["fill_rate"], 1)),
            (_("Waitlist"), figures["waitlisted"]),
            (_("Attended (doctors)"), figures["attended"]),
        ):
            yield (_("Trainings"), item, label, value)
    for source, stats in report["searches"].items():
        for label, value in (
            (_("Searches"), stats["searches"]),
            (_("Errors"), stats["errors"]),
            (_("Median time, ms"), stats["median_latency_ms"]),
        ):
            yield (_("Searches per source"), source_label(source), label, value)
    for cell in report["heatmap"]:
        yield (
            _("Occupancy by weekday and hour"),
            f"{weekday_names[cell['weekday']]} {cell['hour']:02d}:00",
            occupancy,
            percent_figure(cell["occupancy"], 1),
        )
    for point in report["trend"]:
        for label, value in (
            (occupancy, percent_figure(point["occupancy"], 1)),
            (_("Bookings"), point["bookings"]),
            (_("No-shows"), point["no_shows"]),
            (_("Searches"), point["searches"]),
        ):
            yield (_("Occupancy month by month"), month_label(point["month"]), label, value)
