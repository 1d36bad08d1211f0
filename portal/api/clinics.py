"""Clinics and their rooms."""
from flask import jsonify
from flask_login import current_user

from portal.api.blueprint import bp
from portal.api.helpers import items
from portal.api.schema import Answer, Body, Count, answers, api, items_of, omittable
from portal.clinics import models, services
from portal.core.permissions import get_in_clinic_or_404


class Clinic(Answer):
    id: int
    name: str
    short_name: str
    address: str
    timezone: str


class Room(Answer):
    id: int
    clinic_id: int
    name: str
    location: str
    capacity: int
    timezone: str
    policy: dict[str, int]


class NewClinic(Body):
    name: str
    short_name: str
    timezone: str = omittable(description="an IANA time zone; default Europe/Moscow")
    address: str = ""


class NewRoom(Body):
    name: str
    location: str = ""
    capacity: Count


def serialise_clinic(clinic):
    return {"id": clinic.id, "name": clinic.name, "short_name": clinic.short_name,
            "address": clinic.address, "timezone": clinic.timezone}


def serialise_room(room):
    return {"id": room.id, "clinic_id": room.clinic_id, "name": room.name, "location": room.location,
            "capacity": room.capacity, "timezone": room.timezone, "policy": room.policy()}


@bp.get("/clinics")
@api.validate(resp=answers(HTTP_200=(items_of(Clinic), "Clinics the caller may see")))
def list_clinics():
    """Clinics the caller may see"""
    return jsonify(items(services.visible_clinics(current_user), serialise_clinic))


@bp.post("/clinics")
@api.validate(resp=answers(403, 413, HTTP_201=(Clinic, "The new clinic")))
def create_clinic(json: NewClinic):
    """Create a clinic (superadmin)"""
    clinic = services.create_clinic(current_user, name=json.name, short_name=json.short_name,
                                    timezone=json.timezone, address=json.address)
    return jsonify(serialise_clinic(clinic)), 201


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
    room = services.create_room(current_user, clinic, name=json.name, location=json.location,
                                capacity=json.capacity)
    return jsonify(serialise_room(room)), 201
