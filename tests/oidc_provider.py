"""A real OpenID Connect provider on loopback for the city sign-in tests.

oidc-provider-mock serves discovery, JWKS, the authorization form and the token
endpoint, and signs ID tokens with its own RSA key. To test the portal's refusals,
`next_id_token` can change claims of the ID tokens it issues next (another
audience, an old expiry, another nonce), re-signed with the provider's own key —
or signed with a stranger's key — so that only the changed claim is wrong.
"""

import threading
from urllib.parse import parse_qs, urlsplit

import flask
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


class CityProvider:
    def __init__(self):
        import oidc_provider_mock  # imported under the tests' warning filters (see pytest.ini)

        self.app = oidc_provider_mock.app(require_nonce=True, issue_refresh_token=False)
        self.app.after_request(self._rewrite_id_token)
        self.claim_changes = {}
        self.foreign_key = False
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self._thread.join(timeout=5)

    def add_user(self, sub, **claims):
        """The person `sub` with the claims the provider will put into their ID token."""
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def next_id_token(self, foreign_key=False, **changes):
        self.claim_changes, self.foreign_key = changes, foreign_key

    def authorize(self, authorization_url, sub):
        """What the person does at the provider's page: sign in as `sub`. Returns the callback URL's
        path and query, as the provider redirects the browser back to the portal."""
        answer = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["Location"])
        return f"{location.path}?{location.query}"

    def _rewrite_id_token(self, response):
        if flask.request.path != "/oauth2/token" or response.status_code != 200:
            return response
        if not self.claim_changes and not self.foreign_key:
            return response
        body = response.get_json()
        signing_key = RSAKey.import_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True))
        token = jwt.decode(body["id_token"], signing_key)
        if self.foreign_key:
            signing_key = RSAKey.generate_key(2048, parameters={"kid": token.header.get("kid")})
        body["id_token"] = jwt.encode(token.header, {**token.claims, **self.claim_changes}, signing_key)
        response.set_data(flask.json.dumps(body))
        return response


def city_config(provider, **more):
    """The portal's settings for signing in at `provider`."""
    return {"OIDC_ISSUER": provider.url, "OIDC_CLIENT_ID": "growth-room-portal", "OIDC_CLIENT_SECRET": "s3cret", **more}


def query_of(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
