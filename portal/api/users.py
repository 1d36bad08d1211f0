"""Users of a clinic (admins) or of any clinic (superadmins)."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import field, json_body
from portal.api.me import serialise_user
from portal.api.openapi import errors, json_response
from portal.api.openapi import json_body as body_schema
from portal.auth import services
from portal.clinics.models import Clinic
from portal.core.errors import Invalid
from portal.core.permissions import get_in_clinic_or_404


@bp.post("/users")
def create_user():
    data = json_body()
    clinic_id = field(data, "clinic_id", int, required=False)
    if clinic_id is None and not current_user.is_superadmin:
        clinic_id = current_user.clinic_id
    clinic = get_in_clinic_or_404(Clinic, clinic_id, current_user, lambda c: c.id) if clinic_id else None
    password = field(data, "password", str, required=False)
    role = field(data, "role", (str, list))
    if isinstance(role, list) and not all(isinstance(r, str) for r in role):
        raise Invalid(_("The field %(name)s has the wrong type.", name="role"), code="invalid_field", field="role")
    user = services.create_user(
        current_user, email=field(data, "email", str), full_name=field(data, "full_name", str),
        role=role, clinic=clinic, password=password)
    return jsonify(serialise_user(user)), 201


PATHS = {
    "/users": {"post": {
        "summary": "Create a user (admin: own clinic; superadmin: any)", "operationId": "createUser",
        "requestBody": body_schema({"type": "object", "required": ["email", "full_name", "role"], "properties": {
            "email": {"type": "string"}, "full_name": {"type": "string"},
            "role": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "password": {"type": "string", "minLength": 10}, "clinic_id": {"type": "integer"}}}),
        "responses": {"201": json_response("The new user", "User"), **errors(400, 401, 403, 404)}}},
}
