"""Clinics and rooms: creating them and the rules around them."""
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.clinics.models import Clinic, Room
from portal.core import audit
from portal.core.errors import Invalid, NotAllowed
from portal.core.permissions import can_administer_clinic, is_superadmin
from portal.core.time import is_valid_timezone
from portal.extensions import db


def create_clinic(actor, *, name, short_name, timezone=None, address=""):
    """Only a superadmin (or the command line, actor None) creates clinics."""
    if actor is not None and not is_superadmin(actor):
        raise NotAllowed(_("Only a city administrator can create clinics."))
    name = (name or "").strip()
    short_name = (short_name or "").strip()
    timezone = timezone or "Europe/Moscow"
    if not name or len(name) > 300:
        raise Invalid(_("Enter the clinic's name (up to 300 characters)."), code="invalid_name", field="name")
    if not short_name or len(short_name) > 40:
        raise Invalid(_("Enter a short name (up to 40 characters)."), code="invalid_short_name", field="short_name")
    if not is_valid_timezone(timezone):
        raise Invalid(_("Unknown time zone."), code="invalid_timezone", field="timezone")
    if db.session.scalar(select(func.count()).select_from(Clinic).where(Clinic.short_name == short_name)):
        raise Invalid(_("A clinic with this short name already exists."), code="short_name_taken", field="short_name")
    clinic = Clinic(name=name, short_name=short_name, timezone=timezone, address=address or "")
    db.session.add(clinic)
    db.session.flush()
    audit.record("clinic_created", actor=actor, clinic_id=clinic.id, obj=clinic)
    return clinic


def create_room(actor, clinic, *, name, location="", capacity=0):
    """A new room of `clinic` with the default booking policy."""
    if actor is not None and not can_administer_clinic(actor, clinic.id):
        raise NotAllowed(_("You can only manage rooms of your own clinic."))
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid(_("Enter the room's name (up to 120 characters)."), code="invalid_name", field="name")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 500:
        raise Invalid(_("Capacity must be a whole number from 0 to 500."), code="invalid_capacity", field="capacity")
    if db.session.scalar(select(func.count()).select_from(Room).where(
            Room.clinic_id == clinic.id, Room.name == name)):
        raise Invalid(_("This clinic already has a room with this name."), code="name_taken", field="name")
    room = Room(clinic=clinic, name=name, location=(location or "").strip(), capacity=capacity)
    db.session.add(room)
    db.session.flush()
    audit.record("room_created", actor=actor, clinic_id=clinic.id, obj=room)
    return room


def visible_clinics(user):
    query = select(Clinic).order_by(Clinic.name)
    if not is_superadmin(user):
        query = query.where(Clinic.id == user.clinic_id)
    return db.session.scalars(query).all()
