"""A sign-in attempt, shared by the sign-in page and `POST /api/v1/tokens`.

The one place where a request ends a unit of work before its end: the
attempt is counted and committed first, so that attempts on other workers
and machines see it before this one's password is checked; the rest of the
request is the usual single transaction (portal.core.transaction).

Attempts are counted per account for unknown browsers and API clients, and
per browser for one where the account signed in before (portal.auth.devices).
"""

from portal.auth import devices, services
from portal.core import transaction


def attempt_sign_in(email, password, device_cookie=None):
    """The user whose e-mail and password these are, or Unauthorized / RateLimited."""
    account = services.normalise_email(email)
    counted_as = devices.counter_key(account, devices.nonce_for(device_cookie, account))
    with transaction.unit_of_work():
        attempts = services.count_sign_in_attempt(counted_as)
    return services.authenticate(email, password, attempts, counted_as=counted_as)
