"""The city administrator's screens for connecting polyclinics: clinics, their activation, the CSV import."""

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import forms
from portal.admin.views import bp
from portal.clinics import onboarding, services
from portal.clinics.models import Clinic, Room
from portal.clinics.permissions import get_administered_or_404
from portal.core import transaction
from portal.core.db import utcnow
from portal.core.forms import run_action, submit
from portal.core.permissions import is_superadmin, require


def _superadmins_only():
    require(is_superadmin(current_user), _("Only a city administrator can do this."))


@bp.route("/clinics/new", methods=["GET", "POST"])
def new_clinic():
    _superadmins_only()
    form = forms.ClinicForm()
    return submit(
        form,
        lambda: services.create_clinic(current_user, **form.changes()),
        success_message=lambda clinic: _("Clinic %(name)s created. Now add its rooms.", name=clinic.short_name),
        redirect_to=lambda clinic: url_for("admin.overview", clinic_id=clinic.id),
    ) or (render_template("admin/clinic_form.html", form=form, clinic=None), 400 if form.errors else 200)


@bp.route("/clinics/<int:clinic_id>/edit", methods=["GET", "POST"])
def edit_clinic(clinic_id):
    _superadmins_only()
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    form = forms.ClinicForm(obj=clinic)
    return submit(
        form,
        lambda: services.update_clinic(current_user, clinic, form.changes()),
        success_message=_("Saved."),
        redirect_to=url_for("admin.edit_clinic", clinic_id=clinic.id),
    ) or (
        render_template("admin/clinic_form.html", form=form, clinic=clinic, active_form=forms.ActiveForm()),
        400 if form.errors else 200,
    )


def _switch(obj, set_active, *, activated, deactivated, back_to):
    """Activate or deactivate `obj` as the posted ActiveForm says; flash what happened."""
    form = forms.ActiveForm()
    return run_action(
        lambda: set_active(current_user, obj, form.active.data, now=utcnow()),
        form=form,
        success_message=lambda _result: activated if obj.active else deactivated,
        redirect_to=back_to,
    )


@bp.post("/clinics/<int:clinic_id>/active")
def clinic_active(clinic_id):
    _superadmins_only()
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    return _switch(
        clinic,
        services.set_clinic_active,
        activated=_("%(name)s is active again: its people can sign in.", name=clinic.short_name),
        deactivated=_(
            "%(name)s is deactivated: its future bookings and trainings are cancelled and its people are signed out.",
            name=clinic.short_name,
        ),
        back_to=url_for("admin.edit_clinic", clinic_id=clinic.id),
    )


@bp.post("/rooms/<int:room_id>/active")
def room_active(room_id):
    room = get_administered_or_404(Room, room_id, current_user)
    return _switch(
        room,
        services.set_room_active,
        activated=_("%(name)s takes bookings again.", name=room.name),
        deactivated=_("%(name)s is withdrawn: its future bookings and trainings are cancelled.", name=room.name),
        back_to=url_for("admin.room_page", room_id=room.id),
    )


@bp.route("/clinics/import", methods=["GET", "POST"])
def import_clinics():
    """The same import as `portal import-clinics`: a dry run shows the plan, a real run applies all rows or none."""
    _superadmins_only()
    form = forms.ImportClinicsForm()
    changes, problems, applied = None, [], False
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8")
        except UnicodeDecodeError:
            form.file.errors.append(_("The file is not UTF-8 text."))
        else:
            changes, problems = onboarding.import_clinics(current_user, text)
            if problems or form.dry_run.data:
                transaction.roll_back()
            else:
                applied = True
    status = 400 if problems or form.errors else 200
    return render_template(
        "admin/import_clinics.html",
        form=form,
        changes=changes,
        problems=problems,
        applied=applied,
        columns=onboarding.COLUMNS,
    ), status
