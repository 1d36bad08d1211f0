"""Device cookies (OWASP's scheme against account lockout): a browser where an account signed in before
is trusted for that account.

After a successful sign-in the browser gets (or extends) a signed cookie that
lists, for each account that signed in there, a digest of the e-mail and a
random nonce. Failed attempts are then counted per (account, nonce) for a
trusted browser, and per account for every unknown browser together: someone
guessing a doctor's password from elsewhere locks out only the unknown
browsers, never the doctor's own computer; a trusted browser that keeps
failing loses its trust like any other. The per-address limit, which a room
of twelve computers behind one address would otherwise share, applies only
to unknown browsers.

The cookie holds no e-mail (digests only): room computers are shared.
"""

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

# Accounts remembered per browser; the oldest go first.
MAX_ACCOUNTS = 50


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="device-cookie")


def _digest(account):
    return hashlib.sha256(account.encode()).hexdigest()[:32]


def _entries(raw):
    if not raw:
        return []
    try:
        entries = _serializer().loads(raw)
    except BadSignature:
        return []
    return (
        [entry for entry in entries if isinstance(entry, list) and len(entry) == 2] if isinstance(entries, list) else []
    )


def nonce_for(raw, account):
    """The nonce the browser's cookie holds for `account` (a normalised e-mail), or None: an unknown browser."""
    digest = _digest(account)
    return next((nonce for entry_digest, nonce in _entries(raw) if entry_digest == digest), None)


def remembered(raw, account):
    """The cookie's new value after `account` signed in: a fresh nonce for it, most recent first."""
    digest = _digest(account)
    kept = [entry for entry in _entries(raw) if entry[0] != digest]
    return _serializer().dumps([[digest, secrets.token_urlsafe(16)], *kept][:MAX_ACCOUNTS])


def counter_key(account, nonce):
    """Where failures are counted: this trusted browser, or every unknown browser of the account."""
    return f"device:{nonce}" if nonce else f"account:{account}"
