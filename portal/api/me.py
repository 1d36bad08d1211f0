"""Who is calling."""

from typing import Literal

from flask import jsonify
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.schema import Answer, answers, api
from portal.auth.models import ROLES


class ClinicRef(Answer):
    id: int
    name: str
    short_name: str
    timezone: str


class User(Answer):
    id: int
    email: str
    name: str
    roles: list[Literal[ROLES]]
    clinic: ClinicRef | None
    active: bool
    locale: str | None


def serialise_user(user):
    return {
        "id": user.id,
        "email": user.email,
        "name": user.full_name,
        "roles": user.roles,
        "clinic": (
            {
                "id": user.clinic.id,
                "name": user.clinic.name,
                "short_name": user.clinic.short_name,
                "timezone": user.clinic.timezone,
            }
            if user.clinic
            else None
        ),
        "active": user.active,
        "locale": user.locale,
    }


@bp.get("/me")
@api.validate(resp=answers(HTTP_200=(User, "The caller")))
def get_me():
    """The caller"""
    return jsonify(serialise_user(current_user))
