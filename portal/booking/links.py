"""Secret links: a doctor's private calendar feed and a room's door display."""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.models import User, hash_secret, new_secret
from portal.booking.permissions import can_administer_room
from portal.clinics.models import Room
from portal.core import audit
from portal.core.errors import NotAllowed
from portal.extensions import db


def issue_calendar_token(user: User) -> str:
    """A new private feed link for `user`; the old one stops working. Returns the raw token (shown once)."""
    raw = new_secret()
    user.calendar_token_hash = hash_secret(raw)
    audit.record("calendar_link_created", actor=user, obj=user)
    return raw


def revoke_calendar_token(user: User) -> None:
    user.calendar_token_hash = None
    audit.record("calendar_link_revoked", actor=user, obj=user)


def user_for_calendar_token(raw: str) -> User | None:
    if not raw:
        return None
    return db.session.scalar(select(User).where(User.calendar_token_hash == hash_secret(raw), User.active.is_(True)))


def issue_display_token(actor: User, room: Room) -> str:
    """A new door-display link for `room` (admins of its clinic); the previous link stops working."""
    if not can_administer_room(actor, room):
        raise NotAllowed(_("Only an administrator of this clinic can manage the door display."))
    raw = new_secret()
    room.display_token_hash = hash_secret(raw)
    audit.record("display_link_created", actor=actor, clinic_id=room.clinic_id, obj=room)
    return raw


def room_for_display_token(raw: str) -> Room | None:
    if not raw:
        return None
    return db.session.scalar(select(Room).where(Room.display_token_hash == hash_secret(raw)))
