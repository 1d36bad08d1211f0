"""The doctor's side of the clinics package: reporting a fault in a room."""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.clinics import faults, inventory
from portal.clinics.forms import ProblemReportForm
from portal.clinics.models import EquipmentItem, Room, Workstation
from portal.clinics.permissions import get_visible_or_404
from portal.core.db import utcnow
from portal.core.forms import submit
from portal.core.urls import safe_next
from portal.extensions import db

bp = Blueprint("clinics", __name__, template_folder="templates")

TARGET_MODELS = {"workstation": Workstation, "equipment": EquipmentItem}


def _target(room, value):
    """The workstation or item a form value names, only if it belongs to `room`."""
    kind, _sep, raw_id = (value or "").partition(":")
    model = TARGET_MODELS.get(kind)
    obj = db.session.get(model, int(raw_id)) if model and raw_id.isdigit() else None
    return (kind, obj) if obj is not None and obj.room_id == room.id else (None, None)


@bp.route("/rooms/<int:room_id>/report-problem", methods=["GET", "POST"])
@login_required
def report_problem(room_id):
    room = get_visible_or_404(Room, room_id, current_user)
    form = ProblemReportForm()
    form.set_choices(room, inventory.equipment_of_clinic(room.clinic_id, room_id=room.id))
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]

    def report():
        kind, target = _target(room, form.target.data)
        faults.report_problem(
            current_user,
            room,
            description=form.description.data,
            now=utcnow(),
            workstation=target if kind == "workstation" else None,
            equipment=target if kind == "equipment" else None,
        )

    return submit(
        form,
        report,
        on_error=_show_error,
        success_message=_("Thank you: the administrators have been told and will fix it."),
        redirect_to=safe_next(request.args.get("next")) or url_for("core.dashboard"),
    ) or (render_template("clinics/report_problem.html", room=room, form=form), 400 if form.errors else 200)


def _show_error(form, error):
    """Under the description, or else under the choice of what has the problem."""
    getattr(form, error.field if error.field in ("target", "description") else "target").errors.append(error.message)
