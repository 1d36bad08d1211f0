"""A clinic at a glance: rooms, workstations out of service, open problem reports, today's occupancy."""

from collections import defaultdict

from sqlalchemy import select

from portal.booking.models import OCCUPYING_STATUSES, Booking
from portal.clinics import faults
from portal.clinics.schedule import local_day_bounds, minutes, open_intervals
from portal.core.time import to_local
from portal.extensions import db


def clinic_summary(clinic, now):
    """What the admin overview page and the dashboard panel show for `clinic` on today's local date."""
    today = to_local(now, clinic.timezone).date()
    start, end = local_day_bounds(clinic.timezone, today, today)
    booked = defaultdict(float)
    room_ids = [room.id for room in clinic.rooms]
    if room_ids:
        for booking in db.session.scalars(
            select(Booking).where(
                Booking.room_id.in_(room_ids),
                Booking.status.in_(OCCUPYING_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
        ):
            booked[booking.room_id] += minutes([(max(booking.start_at, start), min(booking.end_at, end))])
    rooms = []
    for room in clinic.rooms:
        counted = [ws for ws in room.workstations if ws.status != "retired"]
        capacity = minutes(open_intervals(room, today, today)) * len(counted)
        rooms.append(
            {
                "room": room,
                "workstations": len(counted),
                "active": sum(1 for ws in counted if ws.status == "active"),
                "occupancy": round(booked[room.id] / capacity, 4) if capacity else None,
            }
        )
    open_reports = faults.problem_reports_of_clinic(clinic.id, statuses=("open", "in_progress"))
    return {
        "today": today,
        "rooms": rooms,
        "out_of_service": [ws for room in clinic.rooms for ws in room.workstations if ws.status == "out_of_service"],
        "open_reports": open_reports,
    }
