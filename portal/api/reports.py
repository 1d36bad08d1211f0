"""Admin: the usage report of a clinic for a month."""

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from portal.api.blueprint import bp
from portal.api.schema import Answer, Query, QueryId, QueryMonth, Time, answers, api, omittable
from portal.clinics.models import Clinic
from portal.clinics.permissions import get_administered_or_404
from portal.core.db import utcnow
from portal.core.errors import Invalid
from portal.core.time import MONTH_PATTERN
from portal.reports.months import parse_month
from portal.reports.usage import usage_report

Ratio = float | None
RATIO = "0–1; null when there was no open time"


class ClinicOfReport(Answer):
    id: int
    name: str
    timezone: str


class WorkstationUse(Answer):
    id: int
    label: str
    status: str
    booked_minutes: int
    occupancy: Ratio = Field(description=RATIO)


class RoomUse(Answer):
    id: int
    name: str
    open_minutes: int
    booked_minutes: int
    occupancy: Ratio = Field(description=RATIO)
    workstations: list[WorkstationUse]


class BookingCounts(Answer):
    total: int
    booked: int
    checked_in: int
    completed: int
    cancelled: int
    no_shows: int
    refused: int


class SessionUse(Answer):
    id: int
    title: str
    start: Time
    capacity: int
    seats_taken: int
    fill_rate: Ratio
    waitlisted: int
    attended: int


class TrainingUse(Answer):
    sessions: int
    capacity: int
    seats_taken: int
    fill_rate: Ratio
    waitlisted: int
    attended: int
    items: list[SessionUse]


class SearchUse(Answer):
    searches: int
    cached: int
    errors: int
    median_latency_ms: int | None = Field(description="upstream answers only")


class HeatmapCell(Answer):
    weekday: int = Field(description="local weekday, Monday 0")
    hour: int
    open_minutes: int
    booked_minutes: int
    occupancy: Ratio


class TrendPoint(Answer):
    month: str = Field(pattern="^[0-9]{4}-[0-9]{2}$", description="YYYY-MM (the months before may precede 2000)")
    occupancy: Ratio
    bookings: int
    no_shows: int
    searches: int


class UsageReport(Answer):
    clinic: ClinicOfReport
    month: str = Field(pattern=MONTH_PATTERN)
    occupancy: Ratio = Field(description=RATIO)
    rooms: list[RoomUse]
    bookings: BookingCounts
    trainings: TrainingUse
    searches: dict[str, SearchUse] = Field(description="per source name")
    heatmap: list[HeatmapCell] = Field(description="local weekday × hour")
    trend: list[TrendPoint] = Field(description="this month and the five before, oldest first")


class UsageQuery(Query):
    clinic_id: QueryId = omittable(description="default: the caller's clinic")
    month: QueryMonth = omittable(description="YYYY-MM; default: the current month")


@bp.get("/reports/usage")
@api.validate(resp=answers(403, 404, HTTP_200=(UsageReport, "The report")))
def get_usage_report(query: UsageQuery):
    """Usage of a clinic in a month (admin)

    Occupancy per room and workstation, no-shows, refused bookings, trainings, searches per source.
    """
    clinic_id = query.clinic_id or current_user.clinic_id
    if clinic_id is None:
        raise Invalid(_("%(name)s is required.", name="clinic_id"), code="missing_parameter", field="clinic_id")
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    return jsonify(usage_report(clinic, query.month or parse_month(None, clinic.timezone, utcnow())))
