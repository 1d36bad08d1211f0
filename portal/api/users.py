"""Users of a clinic (admins) or of any clinic (superadmins)."""

from typing import Annotated

from flask import jsonify
from flask_login import current_user
from pydantic import BeforeValidator, Field

from portal.api.blueprint import bp
from portal.api.me import User, serialise_user
from portal.api.schema import Body, Id, answers, api, omittable
from portal.auth import services
from portal.auth.models import ROLES
from portal.clinics.models import Clinic
from portal.core.permissions import get_in_clinic_or_404

# The service checks the names (invalid_role); the document lists them.
RoleName = Annotated[str, Field(json_schema_extra={"enum": list(ROLES)})]
Roles = Annotated[
    list[RoleName],
    BeforeValidator(
        lambda value: [value] if isinstance(value, str) else value, json_schema_input_type=RoleName | list[RoleName]
    ),
]


class NewUser(Body):
    email: str
    full_name: str
    role: Roles
    password: str = omittable(description="at least 10 characters; without one the user is mailed a link")
    clinic_id: Id = omittable(description="admins: their own clinic (the default)")


@bp.post("/users")
@api.validate(resp=answers(403, 404, 413, HTTP_201=(User, "The new user")))
def create_user(json: NewUser):
    """Create a user (admin: own clinic; superadmin: any)"""
    clinic_id = json.clinic_id
    if clinic_id is None and not current_user.is_superadmin:
        clinic_id = current_user.clinic_id
    clinic = get_in_clinic_or_404(Clinic, clinic_id, current_user, lambda c: c.id) if clinic_id else None
    user = services.create_user(
        current_user, email=json.email, full_name=json.full_name, role=json.role, clinic=clinic, password=json.password
    )
    return jsonify(serialise_user(user)), 201
