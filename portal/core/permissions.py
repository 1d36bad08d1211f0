"""Authorisation rules shared by every feature.

A user acts only inside their own clinic, unless they are a superadmin.
Objects of another clinic answer 404, never 403, so their existence does
not leak.
"""

from portal.core.errors import NotAllowed, NotFound
from portal.extensions import db


def is_superadmin(user):
    return bool(user and user.is_authenticated and user.is_superadmin)


def can_see_clinic(user, clinic_id):
    return is_superadmin(user) or (user.is_authenticated and user.clinic_id == clinic_id)


def can_administer_clinic(user, clinic_id):
    return is_superadmin(user) or (user.is_authenticated and user.clinic_id == clinic_id and user.has_role("admin"))


def can_train_in_clinic(user, clinic_id):
    return can_administer_clinic(user, clinic_id) or (
        user.is_authenticated and user.clinic_id == clinic_id and user.has_role("trainer")
    )


# Ids are database integers: a larger number names nothing (and must not reach the database).
MAX_ID = 2**31 - 1


def in_id_range(object_id):
    return isinstance(object_id, int) and not isinstance(object_id, bool) and 0 < object_id <= MAX_ID


def get_in_clinic_or_404(model, object_id, user, clinic_id_of):
    """Load an object the user may see (same clinic or superadmin), else NotFound."""
    obj = db.session.get(model, object_id) if in_id_range(object_id) else None
    if obj is None or not can_see_clinic(user, clinic_id_of(obj)):
        raise NotFound(f"{model.__name__} not found", code="not_found")
    return obj


def require(condition, message="You are not allowed to do this."):
    if not condition:
        raise NotAllowed(message)
