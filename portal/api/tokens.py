"""API tokens: created with e-mail and password (rate-limited like sign-in), revoked by their holder."""
from flask import current_app, g, jsonify
from flask_babel import gettext as _

from portal.api.blueprint import bp
from portal.api.helpers import field, json_body
from portal.api.openapi import errors, json_response
from portal.api.openapi import json_body as body_schema
from portal.auth import services
from portal.auth.models import ApiToken
from portal.auth.signin import attempt_sign_in
from portal.core.errors import Invalid
from portal.extensions import db, limiter


def _address_limit():
    return current_app.config["SIGNIN_FAILURES_PER_ADDRESS"]


@bp.post("/tokens")
@limiter.limit(_address_limit, deduct_when=lambda response: response.status_code != 201)
def create_token():
    data = json_body()
    email = field(data, "email", str)
    password = field(data, "password", str)
    name = field(data, "name", str, required=False, default="api")
    user = attempt_sign_in(email, password)
    token, raw = services.issue_token(user, name[:100])
    return jsonify(id=token.id, token=raw, name=token.name, created_at=token.created_at.isoformat()), 201


@bp.delete("/tokens/current")
def revoke_current_token():
    token_id = g.get("api_token_id")
    if token_id is None:
        raise Invalid(_("Only a request made with a bearer token can revoke it."), code="no_token")
    services.revoke_token(db.session.get(ApiToken, token_id))
    return "", 204


PATHS = {
    "/tokens": {"post": {
        "summary": "Create an API token (shown once)", "operationId": "createToken", "security": [],
        "requestBody": body_schema({"type": "object", "required": ["email", "password"], "properties": {
            "email": {"type": "string"}, "password": {"type": "string"}, "name": {"type": "string"}}}),
        "responses": {"201": json_response("The new token", {
            "type": "object", "required": ["id", "token"],
            "properties": {"id": {"type": "integer"}, "token": {"type": "string"}, "name": {"type": "string"},
                           "created_at": {"type": "string", "format": "date-time"}}}),
            **errors(400, 401, 429)}}},
    "/tokens/current": {"delete": {
        "summary": "Revoke the token of this request", "operationId": "revokeCurrentToken",
        "responses": {"204": {"description": "Revoked"}, **errors(400, 401)}}},
}
