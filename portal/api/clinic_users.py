"""Admin: the people of a clinic — listing them, roles, deactivation (creation is POST /users)."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import field, int_arg, items, json_body
from portal.api.me import serialise_user
from portal.api.openapi import errors, json_response, list_of
from portal.api.openapi import json_body as body_schema
from portal.auth import services as auth_services
from portal.auth.models import ROLES
from portal.auth.permissions import get_administered_user_or_404
from portal.clinics.models import Clinic
from portal.clinics.permissions import get_administered_or_404
from portal.core.errors import Invalid


@bp.get("/users")
def list_users():
    clinic_id = int_arg("clinic_id", current_user.clinic_id)
    if clinic_id is None:
        raise Invalid(_("The parameter %(name)s is required.", name="clinic_id"), code="missing_parameter",
                      field="clinic_id")
    clinic = get_administered_or_404(Clinic, clinic_id, current_user)
    role = request.args.get("role") or None
    if role is not None and role not in ROLES:
        raise Invalid(_("Unknown role."), code="invalid_parameter", field="role")
    return jsonify(items(auth_services.users_of_clinic(clinic.id, search=request.args.get("q"), role=role),
                         serialise_user))


@bp.get("/users/<int:user_id>")
def get_user(user_id):
    return jsonify(serialise_user(get_administered_user_or_404(current_user, user_id)))


@bp.patch("/users/<int:user_id>")
def update_user(user_id):
    user = get_administered_user_or_404(current_user, user_id)
    data = json_body()
    roles = field(data, "roles", list, required=False)
    active = field(data, "active", bool, required=False)
    if roles is not None:
        if not all(isinstance(role, str) for role in roles):
            raise Invalid(_("The field %(name)s has the wrong type.", name="roles"), code="invalid_field",
                          field="roles")
        auth_services.set_roles(current_user, user, roles)
    if active is not None and active != user.active:
        auth_services.set_active(current_user, user, active)
    return jsonify(serialise_user(user))


_user = [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

PATHS = {
    "/users": {"get": {
        "summary": "People of a clinic (admin: own clinic; superadmin: any, by clinic_id)", "operationId": "listUsers",
        "parameters": [{"name": "clinic_id", "in": "query", "schema": {"type": "integer"}},
                       {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "name or e-mail"},
                       {"name": "role", "in": "query", "schema": {"type": "string", "enum": list(ROLES)}}],
        "responses": {"200": json_response("Users", list_of("User")), **errors(400, 401, 403, 404)}}},
    "/users/{user_id}": {
        "get": {"summary": "One user of the admin's clinic", "operationId": "getUser", "parameters": _user,
                "responses": {"200": json_response("The user", "User"), **errors(401, 403, 404)}},
        "patch": {"summary": "Set roles or (de)activate a user (admin; never grants superadmin)",
                  "operationId": "updateUser", "parameters": _user,
                  "requestBody": body_schema({"type": "object", "properties": {
                      "roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
                      "active": {"type": "boolean"}}}),
                  "responses": {"200": json_response("The user", "User"), **errors(400, 401, 403, 404)}}},
}
