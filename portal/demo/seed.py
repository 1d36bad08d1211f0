"""The base of the demo: two clinics with rooms, workstations and people."""

from datetime import time

from sqlalchemy import select

from portal.auth import services as auth_services
from portal.auth.models import User
from portal.clinics import services as clinic_services
from portal.clinics.models import Clinic, OpeningHours, Room, Workstation
from portal.extensions import db

DEMO_PASSWORD = "demo-password-2026"

CLINICS = [
    {
        "short_name": "ДГП-94",
        "code": "0094",
        "name": "Детская городская поликлиника № 94",
        "address": "Москва, ул. Примерная, 1",
        "rooms": [("Кабинет профессионального роста", "2 этаж, каб. 214", 12, 8)],
    },
    {
        "short_name": "ДГП-133",
        "code": "0133",
        "name": "Детская городская поликлиника № 133",
        "address": "Москва, ул. Образцовая, 7",
        "rooms": [("Кабинет профессионального роста", "1 этаж, каб. 105", 10, 6)],
    },
]

PEOPLE = [
    ("superadmin@demo.portal", "Городской Администратор", ["superadmin"], None),
    ("admin@dgp94.demo.portal", "Анна Сергеевна Администраторова", ["admin"], 0),
    ("trainer@dgp94.demo.portal", "Игорь Павлович Лекторов", ["trainer", "doctor"], 0),
    ("doctor@dgp94.demo.portal", "Мария Ивановна Петрова", ["doctor"], 0),
    ("doctor2@dgp94.demo.portal", "Алексей Николаевич Смирнов", ["doctor"], 0),
    ("admin@dgp133.demo.portal", "Ольга Викторовна Кузнецова", ["admin"], 1),
    ("doctor@dgp133.demo.portal", "Елена Андреевна Волкова", ["doctor"], 1),
]


def _clinic(spec):
    clinic = db.session.scalar(select(Clinic).where(Clinic.short_name == spec["short_name"]))
    return clinic or clinic_services.create_clinic(
        None, name=spec["name"], short_name=spec["short_name"], address=spec["address"], code=spec["code"]
    )


def _room(clinic, name, location, capacity, workstation_count):
    room = db.session.scalar(select(Room).where(Room.clinic_id == clinic.id, Room.name == name))
    if room is None:
        room = clinic_services.create_room(None, clinic, name=name, location=location, capacity=capacity)
        for weekday in range(5):
            room.opening_hours.append(OpeningHours(weekday=weekday, opens=time(8, 0), closes=time(20, 0)))
        room.opening_hours.append(OpeningHours(weekday=5, opens=time(9, 0), closes=time(15, 0)))
        for number in range(1, workstation_count + 1):
            db.session.add(Workstation(room=room, label=f"ПК-{number}", specs='Intel i5, 16 ГБ, 24"'))
        db.session.flush()
    return room


def seed_base():
    clinics = [_clinic(spec) for spec in CLINICS]
    rooms = [_room(clinic, *spec["rooms"][0]) for clinic, spec in zip(clinics, CLINICS, strict=True)]
    users, logins = {}, []
    for email, name, roles, clinic_index in PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = auth_services.create_user(
                None,
                email=email,
                full_name=name,
                role=roles,
                clinic=clinics[clinic_index] if clinic_index is not None else None,
                password=DEMO_PASSWORD,
            )
        users[email] = user
        clinic_label = clinics[clinic_index].short_name if clinic_index is not None else "all clinics"
        logins.append((email, f"{', '.join(roles)} — {clinic_label}"))
    db.session.flush()
    return {"clinics": clinics, "rooms": rooms, "users": users, "logins": logins}
