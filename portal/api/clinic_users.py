"""Admin: the people of a clinic — listing them, roles, deactivation (creation is POST /users)."""

from typing import Literal

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import items
from portal.api.me import User, serialise_user
from portal.api.schema import Body, Query, QueryId, answers, api, items_of, omittable
from portal.api.users import RoleName
from portal.auth import services as auth_services
from portal.auth.models import ROLES
from portal.auth.permissions import get_administered_user_or_404
from portal.clinics.models import Clinic
from portal.clinics.permissions import get_administered_or_404
from portal.core.errors import Invalid


class UserFilter(Query):
    clinic_id: QueryId = omittable(description="default: the caller's clinic")
    q: str = omittable(description="part of the name or e-mail")
    role: Literal[ROLES] = omittable()


class UserChange(Body):
    roles: list[RoleName] = omittable()
    active: bool = omittable()


@bp.get("/users")
@api.validate(resp=answers(403, 404, HTTP_200=(items_of(User), "Users")))
def list_users(query: UserFilter):
    """People of a clinic (admin: own clinic; superadmin: any, by clinic_id)"""
    clinic_id = query.clinic_id or current_user.clinic_id
    if clinic_id is None:
        raise Invalid(_("%(name)s is required.", name="clinic_id"), code="missing_parameter", field="clinic_id")
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    return jsonify(items(auth_services.users_of_clinic(clinic.id, search=query.q, role=query.role), serialise_user))


@bp.get("/users/<int:user_id>")
@api.validate(resp=answers(403, 404, HTTP_200=(User, "The user")))
def get_user(user_id):
    """One user of the admin's clinic"""
    return jsonify(serialise_user(get_administered_user_or_404(current_user, user_id)))


@bp.patch("/users/<int:user_id>")
@api.validate(resp=answers(403, 404, 413, HTTP_200=(User, "The user")))
def update_user(user_id, json: UserChange):
    """Set roles or (de)activate a user (admin; never grants superadmin)"""
    user = get_administered_user_or_404(current_user, user_id)
    if json.roles is not None:
        auth_services.set_roles(current_user, user, json.roles)
    if json.active is not None and json.active != user.active:
        auth_services.set_active(current_user, user, json.active)
    return jsonify(serialise_user(user))
