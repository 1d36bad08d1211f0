"""The city's OpenID Connect provider as an Authlib client: discovery, PKCE, state, nonce, ID-token checks.

Authlib does the protocol: it reads the provider's `.well-known/openid-configuration`,
sends the authorization request with `state`, `nonce` and a PKCE challenge (S256),
keeps them in the signed session cookie until the provider sends the browser back
(any worker can take the callback), exchanges the code and validates the ID token:
signature against the provider's JWKS, `iss`, `aud`, `exp`, `iat` and the nonce.
What the portal adds is below: the issuer must be the configured one, and the
end-session redirect that also signs the browser out of the provider.
"""

from urllib.parse import urlsplit

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app
from joserfc.errors import JoseError
from requests import RequestException

from portal.core import allow_form_redirects_to

EXTENSION = "portal_oidc"
PROVIDER = "city"

# Everything that means "this answer from the provider (or its absence) cannot be trusted".
FLOW_ERRORS = (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError)


def init_app(app):
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    parts = urlsplit(issuer)
    allow_form_redirects_to(app, f"{parts.scheme}://{parts.netloc}")
    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth.register(
        PROVIDER,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": app.config["OIDC_TIMEOUT_SECONDS"],
        },
    )


def client():
    """The provider's client, or None when the portal has no city sign-in configured."""
    return current_app.extensions.get(EXTENSION)


def enabled():
    return client() is not None


def claims_from_callback(provider):
    """The validated ID-token claims of the provider's answer to the current request.

    Raises one of FLOW_ERRORS when the state is unknown or tampered, the code
    exchange fails, or the ID token is forged, expired, meant for another client,
    carries another nonce or comes from another issuer. Returns (claims, id_token).
    """
    token = provider.authorize_access_token()
    claims = token.get("userinfo")
    if claims is None:
        raise ValueError("the provider answered without an ID token")
    if claims.get("iss", "").rstrip("/") != current_app.config["OIDC_ISSUER"].rstrip("/"):
        raise ValueError("the ID token comes from another issuer")
    return dict(claims), token["id_token"]


def end_session_url(provider, id_token, after_url):
    """Where to send the browser so that the provider's session ends too; None if it offers no such endpoint."""
    try:
        if not provider.load_server_metadata().get("end_session_endpoint"):
            return None
        return provider.create_logout_url(
            post_logout_redirect_uri=after_url, id_token_hint=id_token, client_id=provider.client_id
        )["url"]
    except FLOW_ERRORS:
        current_app.logger.warning("city sign-in: the provider's end-session endpoint is unknown", exc_info=True)
        return None
