"""Clinics and their rooms."""

from flask import jsonify
from flask_login import current_user
from pydantic import ConfigDict, Field

from portal.api.blueprint import bp
from portal.api.helpers import items
from portal.api.schema import Answer, Body, Count, answers, api, items_of, omittable
from portal.clinics import models, services
from portal.core.db import utcnow
from portal.core.permissions import get_in_clinic_or_404, is_superadmin

CODE = "the polyclinic's code in the city's systems, matched to the city sign-in's clinic claim"


class Clinic(Answer):
    id: int
    name: str
    short_name: str
    code: str | None = Field(description=CODE)
    address: str
    timezone: str
    active: bool


class Room(Answer):
    id: int
    clinic_id: int
    name: str
    location: str
    capacity: int
    timezone: str
    active: bool
    policy: dict[str, int]


class NewClinic(Body):
    name: str
    short_name: str
    code: str = omittable(description=CODE)
    timezone: str = omittable(description="an IANA time zone; default Europe/Moscow")
    address: str = ""


class ClinicChanges(Body):
    model_config = ConfigDict(strict=True, extra="forbid")  # a mistyped field is an error, not a silent no-op

    name: str = omittable()
    short_name: str = omittable()
    code: str | None = Field(None, description=CODE + "; null removes it")
    address: str = omittable()
    timezone: str = omittable()
    active: bool = omittable(
        description="false: its rooms' future bookings and trainings are cancelled and its people signed out"
    )


class NewRoom(Body):
    name: str
    location: str = ""
    capacity: Count


def serialise_clinic(clinic):
    return {
        "id": clinic.id,
        "name": clinic.name,
        "short_name": clinic.short_name,
        "code": clinic.code,
        "address": clinic.address,
        "timezone": clinic.timezone,
        "active": clinic.active,
    }


def serialise_room(room):
    return {
        "id": room.id,
        "clinic_id": room.clinic_id,
        "name": room.name,
        "location": room.location,
        "capacity": room.capacity,
        "timezone": room.timezone,
        "active": room.active,
        "policy": room.policy(),
    }


@bp.get("/clinics")
@api.validate(resp=answers(HTTP_200=(items_of(Clinic), "Clinics the caller may see")))
def list_clinics():
    """Clinics the caller may see (a superadmin sees deactivated ones too)"""
    return jsonify(
        items(services.visible_clinics(current_user, include_inactive=is_superadmin(current_user)), serialise_clinic)
    )


@bp.post("/clinics")
@api.validate(resp=answers(403, 413, HTTP_201=(Clinic, "The new clinic")))
def create_clinic(json: NewClinic):
    """Create a clinic (superadmin)"""
    clinic = services.create_clinic(
        current_user,
        name=json.name,
        short_name=json.short_name,
        timezone=json.timezone,
        address=json.address,
        code=json.code,
    )
    return jsonify(serialise_clinic(clinic)), 201


@bp.patch("/clinics/<int:clinic_id>")
@api.validate(resp=answers(403, 404, 413, HTTP_200=(Clinic, "The clinic")))
def update_clinic(clinic_id, json: ClinicChanges):
    """Change a clinic: name, short name, code, address, time zone, active (superadmin)

    Deactivating cancels its rooms' future bookings and trainings and signs its people out.
    """
    clinic = get_in_clinic_or_404(models.Clinic, clinic_id, current_user, lambda c: c.id)
    sent = json.model_fields_set
    services.update_clinic(current_user, clinic, {name: getattr(json, name) for name in sent if name != "active"})
    if "active" in sent:
        services.set_clinic_active(current_user, clinic, json.active, now=utcnow())
    return jsonify(serialise_clinic(clinic))


@bp.get("/clinics/<int:clinic_id>/rooms")
@api.validate(resp=answers(404, HTTP_200=(items_of(Room), "Rooms of the clinic")))
def list_rooms(clinic_id):
    """Rooms of a clinic"""
    clinic = get_in_clinic_or_404(models.Clinic, clinic_id, current_user, lambda c: c.id)
    return jsonify(items(clinic.rooms, serialise_room))


@bp.post("/clinics/<int:clinic_id>/rooms")
@api.validate(resp=answers(403, 404, 413, HTTP_201=(Room, "The new room")))
def create_room(clinic_id, json: NewRoom):
    """Create a room with the default policy (admin)"""
    clinic = get_in_clinic_or_404(models.Clinic, clinic_id, current_user, lambda c: c.id)
    room = services.create_room(current_user, clinic, name=json.name, location=json.location, capacity=json.capacity)
    return jsonify(serialise_room(room)), 201
