"""Who is calling."""
from flask import jsonify
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.openapi import errors, json_response


def serialise_user(user):
    return {
        "id": user.id,
        "email": user.email,
        "name": user.full_name,
        "roles": user.roles,
        "clinic": ({"id": user.clinic.id, "name": user.clinic.name, "short_name": user.clinic.short_name,
                    "timezone": user.clinic.timezone} if user.clinic else None),
        "active": user.active,
        "locale": user.locale,
    }


@bp.get("/me")
def me():
    return jsonify(serialise_user(current_user))


SCHEMAS = {
    "User": {"type": "object", "required": ["id", "name", "roles", "clinic"], "properties": {
        "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string",
                                             "enum": ["doctor", "trainer", "admin", "superadmin"]}},
        "clinic": {"type": ["object", "null"]}, "active": {"type": "boolean"},
        "locale": {"type": ["string", "null"]},
    }},
}

PATHS = {
    "/me": {"get": {"summary": "The caller", "operationId": "getMe",
                    "responses": {"200": json_response("The caller", "User"), **errors(401)}}},
}
