"""Authorisation rules shared by every feature.

A user acts only inside their own clinic, unless they are a superadmin.
Objects of another clinic answer 404, never 403, so their existence does
not leak.
"""

from collections.abc import Callable
from typing import Protocol, TypeVar

from portal.core.errors import NotAllowed, NotFound
from portal.extensions import db

T = TypeVar("T")


class Actor(Protocol):
    """What the rules read from the acting user, so packages below the accounts need not know the user model.

    A signed-out visitor answers is_authenticated False and nothing else is read from it.
    """

    id: int
    clinic_id: int | None

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_superadmin(self) -> bool: ...

    def has_role(self, *roles: str) -> bool: ...


def is_superadmin(user: Actor | None) -> bool:
    return bool(user and user.is_authenticated and user.is_superadmin)


def can_see_clinic(user: Actor, clinic_id: int) -> bool:
    return is_superadmin(user) or (user.is_authenticated and user.clinic_id == clinic_id)


def can_administer_clinic(user: Actor, clinic_id: int) -> bool:
    return is_superadmin(user) or (user.is_authenticated and user.clinic_id == clinic_id and user.has_role("admin"))


def can_train_in_clinic(user: Actor, clinic_id: int) -> bool:
    return can_administer_clinic(user, clinic_id) or (
        user.is_authenticated and user.clinic_id == clinic_id and user.has_role("trainer")
    )


# Ids are database integers: a larger number names nothing (and must not reach the database).
MAX_ID = 2**31 - 1


def in_id_range(object_id: object) -> bool:
    return isinstance(object_id, int) and not isinstance(object_id, bool) and 0 < object_id <= MAX_ID


def get_in_clinic_or_404(model: type[T], object_id: object, user: Actor, clinic_id_of: Callable[[T], int]) -> T:
    """Load an object the user may see (same clinic or superadmin), else NotFound."""
    obj = db.session.get(model, object_id) if in_id_range(object_id) else None
    if obj is None or not can_see_clinic(user, clinic_id_of(obj)):
        raise NotFound(f"{model.__name__} not found", code="not_found")
    return obj


def require(condition: object, message: str = "You are not allowed to do this.") -> None:
    if not condition:
        raise NotAllowed(message)
