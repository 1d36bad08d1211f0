"""A sign-in attempt, shared by the sign-in page and `POST /api/v1/tokens`.

The one place where a request ends a unit of work before its end: the
attempt is counted and committed first, so that attempts on other workers
and machines see it before this one's password is checked; the rest of the
request is the usual single transaction (portal.core.transaction).
"""
from portal.auth import services
from portal.core import transaction


def attempt_sign_in(email, password):
    """The user whose e-mail and password these are, or Unauthorized / RateLimited."""
    with transaction.unit_of_work():
        attempts = services.count_sign_in_attempt(email)
    return services.authenticate(email, password, attempts)
