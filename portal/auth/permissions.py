"""Who may manage whom."""

from flask_babel import gettext as _

from portal.auth.models import User
from portal.core.permissions import can_administer_clinic, get_in_clinic_or_404, is_superadmin, require


def can_manage_user(actor, user):
    """Admins manage the users of their clinic, but never a superadmin; superadmins manage everyone."""
    if is_superadmin(actor):
        return True
    return can_administer_clinic(actor, user.clinic_id) and not user.is_superadmin


def get_administered_user_or_404(actor, user_id):
    """A user of a clinic the actor administers: 404 for other clinics, 403 for non-admins of its clinic."""
    user = get_in_clinic_or_404(User, user_id, actor, lambda found: found.clinic_id)
    require(can_administer_clinic(actor, user.clinic_id), _("Only the clinic's administrators can do this."))
    return user
