"""Sign-in with the city's identity provider: the account its claims name, created, linked or moved.

Like every rule module, each function raises portal.core.errors on a broken rule and only flushes.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth import signals
from portal.auth.models import User
from portal.auth.services import account_inactive, create_user, normalise_email
from portal.clinics.services import clinic_by_code
from portal.core import audit
from portal.core.errors import Conflict, NotAllowed, Unauthorized
from portal.extensions import db


def _claim_text(claims, name):
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _email_verified(claims):
    return claims.get("email_verified") in (True, "true")


def sign_in_with_city_account(claims: Mapping[str, Any], *, claim_names: Mapping[str, str], now: datetime) -> User:
    """The portal user for the ID-token `claims` of the city provider, created or updated; or a refusal.

    `claim_names` maps "email", "name" and "clinic" to the claims that carry them.
    A user is found by the provider's subject (`sub`). The first sign-in of a
    subject links the local account with the same e-mail only when the provider
    says the e-mail is verified, else creates a doctor of the clinic whose code
    the clinic claim carries; an unknown, missing or deactivated clinic is
    refused and nothing is created. Every sign-in updates the name and the
    clinic from the claims: a user who moved keeps only the doctor role (other
    roles were given by the former clinic) and `user_moved_clinic` lets the
    booking package cancel their future bookings there. City administrators
    belong to no clinic; their clinic claim is not needed.
    """
    subject = _claim_text(claims, "sub")
    if not subject:
        raise Unauthorized(_("The city account sent no identifier."), code="missing_subject")
    full_name = _claim_text(claims, claim_names["name"])[:200]
    user = db.session.scalar(select(User).where(User.oidc_subject == subject))
    if user is None:
        user = _linked_local_account(claims, claim_names, subject)
    if user is not None and not user.active:
        raise account_inactive()
    if user is not None and user.is_superadmin and user.clinic_id is None:
        user.full_name = full_name or user.full_name
        audit.record("sign_in", actor=user, details={"via": "city"})
        return user
    clinic = clinic_by_code(_claim_text(claims, claim_names["clinic"]))
    if clinic is None or not clinic.active:
        raise NotAllowed(
            _(
                "Your polyclinic is not connected to the portal yet. The portal opens to its "
                "doctors as soon as the city connects it."
            ),
            code="clinic_not_connected",
        )
    if user is None:
        user = _create_city_doctor(claims, claim_names, subject, full_name, clinic)
    else:
        user.full_name = full_name or user.full_name
        if user.clinic_id != clinic.id:
            _move_to_clinic(user, clinic, now)
    audit.record("sign_in", actor=user, details={"via": "city"})
    return user


def _linked_local_account(claims, claim_names, subject):
    """The local account with the claims' e-mail, now linked to `subject`; None if there is none."""
    email = normalise_email(_claim_text(claims, claim_names["email"]))
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        return None
    if user.oidc_subject is not None:
        raise Unauthorized(
            _("This e-mail belongs to another city account in the portal. Ask your administrator."), code="email_taken"
        )
    if not _email_verified(claims):
        raise Unauthorized(
            _(
                "A portal account with this e-mail already exists, and the city service has not "
                "confirmed that the e-mail is yours, so they cannot be joined. Ask your "
                "administrator."
            ),
            code="email_not_verified",
        )
    user.oidc_subject = subject
    audit.record("city_account_linked", actor=user, obj=user)
    return user


def _create_city_doctor(claims, claim_names, subject, full_name, clinic):
    email = _claim_text(claims, claim_names["email"])
    try:
        # Two first sign-ins of one person at once: the unique e-mail and subject let one of them in.
        with db.session.begin_nested():
            user = create_user(None, email=email, full_name=full_name or email, role="doctor", clinic=clinic)
            user.oidc_subject = subject
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _("Your account is being created right now. Please sign in again."), code="sign_in_in_progress"
        ) from None
    return user


def _move_to_clinic(user, clinic, now):
    previous_clinic_id, roles_before = user.clinic_id, user.roles
    user.clinic = clinic
    user.set_roles(["doctor"])
    db.session.flush()
    audit.record(
        "user_moved_clinic",
        actor=user,
        clinic_id=clinic.id,
        obj=user,
        details={"from_clinic_id": previous_clinic_id, "roles_before": roles_before},
    )
    signals.user_moved_clinic.send(user, previous_clinic_id=previous_clinic_id, now=now)
