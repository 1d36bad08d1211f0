"""Who may see and manage a clinic's rooms, workstations, equipment, problem reports and users.

Objects of another clinic are "not found" (404), so their existence does not
leak; objects of one's own clinic that one may not manage are "forbidden" (403).
"""

from flask_babel import gettext as _

from portal.clinics.models import Clinic, Closure, EquipmentItem, ProblemReport, Room, Workstation
from portal.core.errors import NotAllowed
from portal.core.permissions import can_administer_clinic, can_see_clinic, get_in_clinic_or_404, require

# How to find the clinic an object belongs to.
CLINIC_OF = {
    Clinic: lambda clinic: clinic.id,
    Room: lambda room: room.clinic_id,
    Workstation: lambda workstation: workstation.room.clinic_id,
    Closure: lambda closure: closure.room.clinic_id,
    EquipmentItem: lambda item: item.room.clinic_id,
    ProblemReport: lambda report: report.room.clinic_id,
}


def clinic_id_of(obj):
    return CLINIC_OF[type(obj)](obj)


def get_visible_or_404(model, object_id, user):
    """An object of the user's clinic (any clinic for a superadmin), else 404."""
    return get_in_clinic_or_404(model, object_id, user, CLINIC_OF[model])


def get_administered_or_404(model, object_id, user):
    """An object the user administers: 404 for other clinics, 403 for non-admins of its clinic."""
    obj = get_visible_or_404(model, object_id, user)
    require(can_administer_clinic(user, clinic_id_of(obj)), _("Only the clinic's administrators can do this."))
    return obj


def can_administer(user, obj):
    """Admins of the object's clinic and superadmins manage it."""
    return can_administer_clinic(user, clinic_id_of(obj))


def can_report_problem(user, room):
    """Every signed-in member of the room's clinic may report a fault in it."""
    return bool(user.is_authenticated) and can_see_clinic(user, room.clinic_id)


def can_see_problem_report(user, report):
    """The reporter sees their own report; the clinic's admins see all of its reports."""
    return can_administer(user, report) or (user.is_authenticated and report.reporter_id == user.id)


def is_admin(user):
    return bool(user.is_authenticated) and (user.is_superadmin or user.has_role("admin"))


def require_clinic_admin(actor, clinic_id):
    """The rules' own check: the command line (no actor) is trusted, anyone else administers the clinic."""
    if actor is not None and not can_administer_clinic(actor, clinic_id):
        raise NotAllowed(_("You can only manage rooms of your own clinic."))
