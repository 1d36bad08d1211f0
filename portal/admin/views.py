"""Admin screens: each view loads (404), checks access (403), calls a service, renders."""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.admin import forms
from portal.auth import services as auth_services
from portal.auth.permissions import can_manage_user, get_administered_user_or_404
from portal.clinics import faults, inventory, services, timetable
from portal.clinics.labels import status_label
from portal.clinics.models import Clinic, Closure, EquipmentItem, ProblemReport, Room, Workstation
from portal.clinics.permissions import get_administered_or_404, is_admin
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.core.exports import csv_response
from portal.core.forms import run_action, show_error, submit
from portal.core.permissions import is_superadmin, require
from portal.core.time import local_to_utc, parse_iso, to_local
from portal.extensions import db
from portal.reports import audit_log, audit_sentences
from portal.reports.charts import heatmap_svg, trend_svg
from portal.reports.months import parse_month
from portal.reports.summary import clinic_summary
from portal.reports.usage import csv_rows, hours_figure, month_label, source_label, usage_report

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

AUDIT_PAGE_SIZE = 100


@bp.before_request
@login_required
def admins_only():
    require(is_admin(current_user), _("Only administrators can open these pages."))


def _clinic(clinic_id):
    return get_administered_or_404(Clinic, clinic_id, current_user)


# --- overview -------------------------------------------------------------------------------


@bp.get("/")
def index():
    if not is_superadmin(current_user):
        return redirect(url_for("admin.overview", clinic_id=current_user.clinic_id))
    return render_template("admin/index.html", clinics=services.visible_clinics(current_user, include_inactive=True))


@bp.get("/clinics/<int:clinic_id>")
def overview(clinic_id):
    clinic = _clinic(clinic_id)
    return render_template("admin/overview.html", clinic=clinic, summary=clinic_summary(clinic, utcnow()))


@bp.route("/clinics/<int:clinic_id>/rooms/new", methods=["GET", "POST"])
def new_room(clinic_id):
    clinic = _clinic(clinic_id)
    form = forms.RoomForm()
    return submit(
        form,
        lambda: services.create_room(
            current_user, clinic, name=form.name.data, location=form.location.data, capacity=form.capacity.data
        ),
        success_message=lambda room: _("Room %(name)s created. Now set its opening hours.", name=room.name),
        redirect_to=lambda room: url_for("admin.room_schedule", room_id=room.id),
    ) or (render_template("admin/room_new.html", clinic=clinic, form=form), 400 if form.errors else 200)


# --- a room: details, policy, workstations --------------------------------------------------


def _room_page(room, status=200, **posted):
    page_forms = {
        "details_form": posted.get("details_form") or forms.RoomForm(formdata=None, obj=room),
        "policy_form": posted.get("policy_form") or forms.PolicyForm(formdata=None, obj=room),
        "workstations_form": posted.get("workstations_form") or forms.WorkstationsForm(formdata=None),
    }
    items = inventory.equipment_of_clinic(room.clinic_id, room_id=room.id)
    return render_template(
        "admin/room.html",
        room=room,
        clinic=room.clinic,
        items=items,
        statuses=forms.WorkstationStatusForm(formdata=None).status.choices,
        **page_forms,
    ), status


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
def room_page(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    if request.method == "GET":
        return _room_page(room)
    form = forms.RoomForm()
    return submit(
        form,
        lambda: services.update_room(
            current_user, room, name=form.name.data, location=form.location.data, capacity=form.capacity.data
        ),
        success_message=_("Saved."),
        redirect_to=url_for("admin.room_page", room_id=room.id),
    ) or _room_page(room, 400, details_form=form)


@bp.post("/rooms/<int:room_id>/policy")
def room_policy(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    form = forms.PolicyForm()
    return submit(
        form,
        lambda: timetable.update_policy(current_user, room, form.changes()),
        success_message=_("The booking policy is saved."),
        redirect_to=url_for("admin.room_page", room_id=room.id),
    ) or _room_page(room, 400, policy_form=form)


@bp.post("/rooms/<int:room_id>/workstations")
def add_workstations(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    form = forms.WorkstationsForm()

    def add():
        for label in form.label_list():
            inventory.create_workstation(current_user, room, label=label, specs=form.specs.data)

    return submit(
        form,
        add,
        on_error=_show_labels_error,
        success_message=_("Workstations added."),
        redirect_to=url_for("admin.room_page", room_id=room.id),
    ) or _room_page(room, 400, workstations_form=form)


def _show_labels_error(form, error):
    """The service checks one label at a time; the form has one field for all of them."""
    show_error(form, error if error.field != "label" else DomainError(error.message, field="labels"))


@bp.post("/workstations/<int:workstation_id>")
def workstation_status(workstation_id):
    workstation = get_administered_or_404(Workstation, workstation_id, current_user)
    form = forms.WorkstationStatusForm()
    return run_action(
        lambda: inventory.set_workstation_status(current_user, workstation, form.status.data, now=utcnow()),
        form=form,
        success_message=lambda outcome: _(
            "%(label)s is now %(status)s. Bookings moved: %(moved)d, cancelled: %(cancelled)d.",
            label=workstation.label,
            status=status_label(workstation.status),
            moved=len(outcome[0]),
            cancelled=len(outcome[1]),
        ),
        redirect_to=url_for("admin.room_page", room_id=workstation.room_id),
    )


# --- a room's schedule: opening hours, closures, public holidays ------------------------------


def _schedule_page(room, status=200, closure_affected=(), holidays_affected=(), **posted):
    now = utcnow()
    closures = timetable.closures_of_room(room, ending_after=now - timedelta(days=31))
    page_forms = {
        "hours_form": posted.get("hours_form") or forms.HoursForm.for_room(room),
        "closure_form": posted.get("closure_form") or forms.ClosureForm(formdata=None),
        "holidays_form": posted.get("holidays_form")
        or forms.HolidaysForm(formdata=None, year=to_local(now, room.timezone).year + 1),
    }
    return render_template(
        "admin/schedule.html",
        room=room,
        clinic=room.clinic,
        closures=closures,
        closure_affected=closure_affected,
        holidays_affected=holidays_affected,
        **page_forms,
    ), status


@bp.route("/rooms/<int:room_id>/schedule", methods=["GET", "POST"])
def room_schedule(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    if request.method == "GET":
        return _schedule_page(room)
    form = forms.HoursForm()
    return submit(
        form,
        lambda: timetable.set_opening_hours(current_user, room, form.intervals()),
        on_error=_show_weekday_error,
        success_message=_("Opening hours saved."),
        redirect_to=url_for("admin.room_schedule", room_id=room.id),
    ) or _schedule_page(room, 400, hours_form=form)


def _show_weekday_error(form, error):
    """On the line of the weekday the service names, else above the form."""
    weekday = error.details.get("weekday")
    show_error(form, DomainError(error.message, field=f"day_{weekday}" if weekday is not None else None))


def _local(value, room):
    return local_to_utc(value, room.timezone) if value else None


@bp.post("/rooms/<int:room_id>/closures")
def add_closure(room_id):
    """A closure over active bookings or sessions is shown with them first; the admin confirms cancelling."""
    room = get_administered_or_404(Room, room_id, current_user)
    form = forms.ClosureForm()
    refusal = AffectedRefusal()
    return submit(
        form,
        lambda: timetable.add_closure(
            current_user,
            room,
            start=_local(form.start.data, room),
            end=_local(form.end.data, room),
            reason=form.reason.data,
            now=utcnow(),
            cancel_affected=form.cancel_affected.data,
        ),
        on_error=refusal.show,
        success_message=lambda outcome: _closure_message(_("Closure added."), outcome[1]),
        redirect_to=url_for("admin.room_schedule", room_id=room.id),
    ) or _schedule_page(room, 400, closure_form=form, closure_affected=refusal.rows())


@bp.post("/rooms/<int:room_id>/holidays")
def add_holidays(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    form = forms.HolidaysForm()
    refusal = AffectedRefusal()
    return submit(
        form,
        lambda: timetable.add_public_holidays(
            current_user,
            room.clinic.rooms if form.all_rooms.data else [room],
            year=form.year.data,
            now=utcnow(),
            cancel_affected=form.cancel_affected.data,
        ),
        on_error=refusal.show,
        success_message=lambda outcome: _closure_message(
            _("Public holidays of %(year)d added: %(count)d closures.", year=form.year.data, count=len(outcome[0])),
            outcome[1],
        ),
        redirect_to=url_for("admin.room_schedule", room_id=room.id),
    ) or _schedule_page(room, 400, holidays_form=form, holidays_affected=refusal.rows())


class AffectedRefusal:
    """A closure refused for the bookings and sessions it covers: the page lists them with a confirm button."""

    def __init__(self):
        self.affected = []

    def show(self, form, error):
        if error.code == "bookings_affected":
            self.affected = error.details["affected"]
            form.form_errors.append(error.message)
        else:
            show_error(form, error)

    def rows(self):
        """Each with its times parsed, for the page to show them in local time."""
        return [
            {**item, "start_at": parse_iso(item["start"]), "end_at": parse_iso(item["end"])} for item in self.affected
        ]


def _closure_message(text, cancelled):
    if not cancelled:
        return text
    bookings = sum(1 for item in cancelled if item["kind"] == "booking")
    return " ".join(
        [
            text,
            _(
                "Cancelled: %(bookings)d bookings and %(sessions)d training sessions; their doctors "
                "and trainers have been told.",
                bookings=bookings,
                sessions=len(cancelled) - bookings,
            ),
        ]
    )


@bp.post("/closures/<int:closure_id>/delete")
def delete_closure(closure_id):
    closure = get_administered_or_404(Closure, closure_id, current_user)
    return run_action(
        lambda: timetable.delete_closure(current_user, closure),
        success_message=_("Closure removed."),
        redirect_to=url_for("admin.room_schedule", room_id=closure.room_id),
    )


# --- equipment ---------------------------------------------------------------------------------


def _equipment_filters(clinic):
    room_id = request.args.get("room_id", type=int)
    kind = request.args.get("kind") or None
    status = request.args.get("status") or None
    rooms = {room.id for room in clinic.rooms}
    return {"room_id": room_id if room_id in rooms else None, "kind": kind, "status": status}


@bp.get("/clinics/<int:clinic_id>/equipment")
def equipment(clinic_id):
    clinic = _clinic(clinic_id)
    filters = _equipment_filters(clinic)
    return render_template(
        "admin/equipment.html",
        clinic=clinic,
        filters=filters,
        items=inventory.equipment_of_clinic(clinic.id, **filters),
        kinds=inventory.equipment_kinds(clinic.id),
        statuses=forms.EquipmentStatusForm(formdata=None).status.choices,
    )


@bp.get("/clinics/<int:clinic_id>/equipment.csv")
def equipment_csv(clinic_id):
    clinic = _clinic(clinic_id)
    rows = [["inventory_number", "kind", "status", "room", "workstation", "notes", "since"]]
    rows += [
        [
            item.inventory_number,
            item.kind,
            item.status,
            item.room.name,
            item.workstation.label if item.workstation else "",
            item.notes,
            to_local(item.history[-1].at if item.history else item.created_at, clinic.timezone).isoformat(),
        ]
        for item in inventory.equipment_of_clinic(clinic.id, **_equipment_filters(clinic))
    ]
    return csv_response(rows, f"equipment-{clinic.id}-{to_local(utcnow(), clinic.timezone):%Y-%m-%d}.csv")


def _equipment_form(clinic, room_id=None):
    form = forms.EquipmentForm()
    form.room_id.choices = [SelectChoice(room.id, room.name) for room in clinic.rooms]
    form.workstation_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(ws.id, f"{room.name} / {ws.label}") for room in clinic.rooms for ws in room.workstations
    ]
    if request.method == "GET" and room_id:
        form.room_id.data = room_id
    return form


@bp.route("/clinics/<int:clinic_id>/equipment/new", methods=["GET", "POST"])
def new_equipment(clinic_id):
    clinic = _clinic(clinic_id)
    form = _equipment_form(clinic, request.args.get("room_id", type=int))

    def create():
        # The form offers only this clinic's rooms, so this finds the room; it cannot answer 404/403 here.
        room = get_administered_or_404(Room, form.room_id.data, current_user)
        workstation = db.session.get(Workstation, form.workstation_id.data) if form.workstation_id.data else None
        return inventory.create_equipment(
            current_user,
            room,
            kind=form.kind.data,
            inventory_number=form.inventory_number.data,
            workstation=workstation,
            notes=form.notes.data,
        )

    return submit(
        form,
        create,
        success_message=lambda item: _("Item %(number)s added.", number=item.inventory_number),
        redirect_to=url_for("admin.equipment", clinic_id=clinic.id),
    ) or (render_template("admin/equipment_new.html", clinic=clinic, form=form), 400 if form.errors else 200)


@bp.route("/equipment/<int:item_id>", methods=["GET", "POST"])
def equipment_item(item_id):
    item = get_administered_or_404(EquipmentItem, item_id, current_user)
    form = forms.EquipmentStatusForm(formdata=None if request.method == "GET" else request.form, status=item.status)
    return submit(
        form,
        lambda: inventory.update_equipment(current_user, item, status=form.status.data, note=form.note.data),
        success_message=_("Saved."),
        redirect_to=url_for("admin.equipment_item", item_id=item.id),
    ) or (
        render_template("admin/equipment_item.html", item=item, clinic=item.room.clinic, form=form),
        400 if form.errors else 200,
    )


# --- problem reports --------------------------------------------------------------------------------


@bp.get("/clinics/<int:clinic_id>/problem-reports")
def problem_reports(clinic_id):
    clinic = _clinic(clinic_id)
    show = request.args.get("show", "open")
    statuses = None if show == "all" else ("open", "in_progress")
    reports = faults.problem_reports_of_clinic(clinic.id, statuses=statuses)
    return render_template(
        "admin/problem_reports.html", clinic=clinic, reports=reports, show=show, transitions=faults.PROBLEM_TRANSITIONS
    )


@bp.post("/problem-reports/<int:report_id>")
def problem_report_status(report_id):
    report = get_administered_or_404(ProblemReport, report_id, current_user)
    form = forms.ProblemStatusForm()
    return run_action(
        lambda: faults.set_problem_status(
            current_user, report, form.status.data, now=utcnow(), resolution=form.resolution.data
        ),
        form=form,
        success_message=lambda _report: _(
            "Report #%(id)d is now %(status)s.", id=report.id, status=status_label(report.status)
        ),
        redirect_to=url_for("admin.problem_reports", clinic_id=report.room.clinic_id),
    )


# --- users ----------------------------------------------------------------------------------------


@bp.get("/clinics/<int:clinic_id>/users")
def users(clinic_id):
    clinic = _clinic(clinic_id)
    search = request.args.get("q", "").strip()
    people = auth_services.users_of_clinic(clinic.id, search=search or None)
    return render_template(
        "admin/users.html",
        clinic=clinic,
        people=people,
        search=search,
        roles_form=forms.RolesForm(formdata=None),
        can_manage_user=can_manage_user,
    )


@bp.route("/clinics/<int:clinic_id>/users/new", methods=["GET", "POST"])
def new_user(clinic_id):
    clinic = _clinic(clinic_id)
    form = forms.UserForm()

    return submit(
        form,
        lambda: auth_services.create_user(
            current_user,
            email=form.email.data,
            full_name=form.full_name.data,
            role=form.roles.data,
            clinic=clinic,
            position=form.position.data or None,
        ),
        on_error=_show_roles_error,
        success_message=lambda user: _(
            "%(name)s can now set a password with the link sent by e-mail.", name=user.full_name
        ),
        redirect_to=url_for("admin.users", clinic_id=clinic.id),
    ) or (render_template("admin/user_new.html", clinic=clinic, form=form), 400 if form.errors else 200)


def _show_roles_error(form, error):
    """The service checks a role; the form chooses roles."""
    show_error(form, DomainError(error.message, field="roles" if error.field == "role" else error.field))


@bp.post("/users/<int:user_id>/roles")
def user_roles(user_id):
    user = get_administered_user_or_404(current_user, user_id)
    form = forms.RolesForm()
    if not form.validate_on_submit():
        flash(_("Choose at least one role."), "error")
        return redirect(url_for("admin.users", clinic_id=user.clinic_id))
    return run_action(
        lambda: auth_services.set_roles(current_user, user, form.roles.data),
        form=form,
        success_message=_("Roles of %(name)s saved.", name=user.full_name),
        redirect_to=url_for("admin.users", clinic_id=user.clinic_id),
    )


@bp.post("/users/<int:user_id>/active")
def user_active(user_id):
    user = get_administered_user_or_404(current_user, user_id)
    form = forms.ActiveForm()
    return run_action(
        lambda: auth_services.set_active(current_user, user, form.active.data),
        form=form,
        success_message=lambda _result: (
            _("%(name)s is activated.", name=user.full_name)
            if user.active
            else _("%(name)s is deactivated and signed out everywhere.", name=user.full_name)
        ),
        redirect_to=url_for("admin.users", clinic_id=user.clinic_id),
    )


# --- audit log --------------------------------------------------------------------------------------


@bp.get("/audit")
def audit():
    form = forms.AuditFilterForm(request.args)
    clinics = services.visible_clinics(current_user, include_inactive=True)
    form.clinic_id.choices = [SelectChoice(clinic.id, clinic.name) for clinic in clinics]
    if not is_superadmin(current_user) or form.clinic_id.data is None:
        form.clinic_id.data = form.clinic_id.data or current_user.clinic_id or (clinics[0].id if clinics else None)
    form.validate()
    clinic = _clinic(form.clinic_id.data) if form.clinic_id.data else None
    page = max(request.args.get("page", 1, type=int), 1)
    entries, has_next = [], False
    if clinic is not None:
        entries, has_next = audit_log.search(
            clinic,
            person=form.person.data,
            thing=form.thing.data,
            kind=form.kind.data or None,
            date_from=None if form.date_from.errors else form.date_from.data,
            date_to=None if form.date_to.errors else form.date_to.data,
            page=page,
            page_size=AUDIT_PAGE_SIZE,
        )
    return render_template(
        "admin/audit.html",
        form=form,
        clinic=clinic,
        page=page,
        has_next=has_next,
        entries=audit_sentences.sentences(entries, clinic.timezone if clinic else None),
    )


# --- usage report -----------------------------------------------------------------------------------


@bp.get("/clinics/<int:clinic_id>/usage")
def usage(clinic_id):
    clinic = _clinic(clinic_id)
    report = usage_report(clinic, parse_month(request.args.get("month"), clinic.timezone, utcnow()))
    trend = [
        {**point, "label": month_label(point["month"]), "short_label": month_label(point["month"], "abbreviated")}
        for point in report["trend"]
    ]
    return render_template(
        "admin/usage.html",
        clinic=clinic,
        report=report,
        trend_points=trend,
        hours=_hours_text,
        source_label=source_label,
        heatmap=heatmap_svg(report["heatmap"], _weekday_names(), _("Occupancy by weekday and hour"), _("closed")),
        trend=trend_svg(trend, _("Occupancy month by month")),
    )


def _hours_text(minutes):
    return format_decimal(hours_figure(minutes), format="#,##0.0")


def _weekday_names():
    return [str(name) for name in forms.WEEKDAY_SHORT]


@bp.get("/clinics/<int:clinic_id>/usage.csv")
def usage_csv(clinic_id):
    clinic = _clinic(clinic_id)
    report = usage_report(clinic, parse_month(request.args.get("month"), clinic.timezone, utcnow()))
    return csv_response(csv_rows(report, _weekday_names()), f"usage-{clinic.id}-{report['month']}.csv")
