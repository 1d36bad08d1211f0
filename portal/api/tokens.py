"""API tokens: created with e-mail and password (rate-limited like sign-in), revoked by their holder."""

from flask import current_app, g, jsonify
from flask_babel import gettext as _

from portal.api.blueprint import bp
from portal.api.schema import Answer, Body, Time, answers, api, omittable
from portal.auth import services
from portal.auth.models import ApiToken
from portal.auth.signin import attempt_sign_in
from portal.core.errors import Invalid
from portal.core.time import iso
from portal.extensions import db, limiter


class TokenRequest(Body):
    email: str
    password: str
    name: str = omittable(max_length=100, description="a label to tell one's tokens apart")


class NewToken(Answer):
    id: int
    token: str
    name: str
    created_at: Time


def _address_limit():
    return current_app.config["SIGNIN_FAILURES_PER_ADDRESS"]


@bp.post("/tokens")
@limiter.limit(_address_limit, deduct_when=lambda response: response.status_code != 201)
@api.validate(security=[], resp=answers(413, 429, HTTP_201=(NewToken, "The new token, shown once")))
def create_token(json: TokenRequest):
    """Create an API token (shown once)"""
    user = attempt_sign_in(json.email, json.password)
    token, raw = services.issue_token(user, json.name or "api")
    return jsonify(id=token.id, token=raw, name=token.name, created_at=iso(token.created_at)), 201


@bp.delete("/tokens/current")
@api.validate(resp=answers(HTTP_204=None))
def revoke_current_token():
    """Revoke the token of this request"""
    token_id = g.get("api_token_id")
    if token_id is None:
        raise Invalid(_("Only a request made with a bearer token can revoke it."), code="no_token")
    services.revoke_token(db.session.get(ApiToken, token_id))
    return "", 204
