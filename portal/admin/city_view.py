"""The city's view: every clinic compared for a month (superadmins), as a sortable table, a chart and CSV."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.views import bp
from portal.core.db import utcnow
from portal.core.exports import csv_response
from portal.core.permissions import is_superadmin, require
from portal.reports import city
from portal.reports.charts import demand_svg
from portal.reports.months import parse_month

CITY_TIMEZONE = "Europe/Moscow"


def _report():
    require(is_superadmin(current_user), _("Only a city administrator can see every clinic."))
    month = parse_month(request.args.get("month"), CITY_TIMEZONE, utcnow())
    report = city.city_report(month, include_inactive=request.args.get("inactive") == "1")
    key = request.args.get("sort", "occupancy")
    descending = request.args.get("order", "desc") != "asc"
    return report, city.sorted_clinics(report, key, descending), key, descending


@bp.get("/city")
def city_report():
    report, clinics, key, descending = _report()
    chart = demand_svg(
        clinics, report["thresholds"], _("Where demand outruns the rooms"), _("occupancy"), _("training seats filled")
    )
    return render_template(
        "admin/city.html", report=report, clinics=clinics, sort=key, descending=descending, chart=chart, clinic=None
    )


@bp.get("/city.csv")
def city_report_csv():
    report, clinics, _key, _descending = _report()
    return csv_response(city.csv_rows(report, clinics), f"city-{report['month']}.csv")
