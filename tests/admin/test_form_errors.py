"""Admin forms when a service refuses: the page again (400), the message next to the field it is
about, nothing saved; and the redirect with its flash when it accepts."""

import re
from datetime import datetime

from sqlalchemy import func, select

from portal.auth.models import User
from portal.clinics.models import Closure, EquipmentItem, Room, Workstation
from portal.extensions import db


def field_error(html, field):
    """The message shown under `field`, or None when the field is not marked invalid."""
    match = re.search(
        rf'<input[^>]*id="{field}"[^>]*>\s*(?:<div class="form-text">[^<]*</div>\s*)?'
        r'<div class="invalid-feedback d-block">([^<]*)</div>',
        html,
    )
    return match and match.group(1)


def count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_room_forms(auth, client, make_room, make_user):
    room = make_room(name="Кабинет 1")
    other = make_room(clinic=room.clinic, name="Кабинет 2")
    auth.login(make_user(role="admin", clinic=room.clinic))
    token = auth.csrf_token()

    taken = client.post(
        f"/admin/clinics/{room.clinic_id}/rooms/new", data={"csrf_token": token, "name": "Кабинет 1", "capacity": 3}
    )
    assert taken.status_code == 400
    name_taken = "В этой поликлинике уже есть кабинет с таким названием."
    assert field_error(taken.get_data(as_text=True), "name") == name_taken
    assert count(Room, Room.clinic_id == room.clinic_id) == 2

    renamed = client.post(
        f"/admin/rooms/{other.id}", data={"csrf_token": token, "name": "Кабинет 1", "location": "", "capacity": 3}
    )
    assert renamed.status_code == 400
    assert field_error(renamed.get_data(as_text=True), "name") == name_taken

    created = client.post(
        f"/admin/clinics/{room.clinic_id}/rooms/new", data={"csrf_token": token, "name": "Кабинет 3", "capacity": 3}
    )
    new_room = db.session.scalar(select(Room).where(Room.name == "Кабинет 3"))
    assert created.status_code == 302 and created.location.endswith(f"/admin/rooms/{new_room.id}/schedule")
    assert "Кабинет «Кабинет 3» создан" in client.get(created.location).get_data(as_text=True)


def test_workstation_label_errors_show_under_labels_and_add_none(auth, client, make_room, make_user):
    room = make_room()
    auth.login(make_user(role="admin", clinic=room.clinic))
    refused = client.post(
        f"/admin/rooms/{room.id}/workstations",
        data={"csrf_token": auth.csrf_token(), "labels": "ПК-1, " + "Я" * 41, "specs": ""},
    )
    assert refused.status_code == 400
    assert field_error(refused.get_data(as_text=True), "labels").startswith("Введите обозначение")
    assert count(Workstation, Workstation.room_id == room.id) == 0


def test_opening_hours_errors_show_on_their_weekday(auth, client, make_room, make_user):
    room = make_room()
    auth.login(make_user(role="admin", clinic=room.clinic))
    refused = client.post(
        f"/admin/rooms/{room.id}/schedule", data={"csrf_token": auth.csrf_token(), "day_2": "10:00-09:00"}
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "10:00–09:00" in field_error(html, "day_2")
    assert field_error(html, "day_0") is None


def test_closure_and_holiday_errors(auth, client, make_room, make_user):
    room = make_room()
    auth.login(make_user(role="admin", clinic=room.clinic))
    token = auth.csrf_token()
    closure = client.post(
        f"/admin/rooms/{room.id}/closures",
        data={"csrf_token": token, "start": "2030-03-02T10:00", "end": "2030-03-01T10:00", "reason": "Ремонт"},
    )
    assert closure.status_code == 400
    assert field_error(closure.get_data(as_text=True), "end").startswith("Закрытие должно заканчиваться позже")
    holidays = client.post(f"/admin/rooms/{room.id}/holidays", data={"csrf_token": token, "year": 1990})
    assert holidays.status_code == 400
    assert field_error(holidays.get_data(as_text=True), "year").startswith("Выберите год")
    assert count(Closure, Closure.room_id == room.id) == 0

    added = client.post(f"/admin/rooms/{room.id}/holidays", data={"csrf_token": token, "year": datetime.now().year + 1})
    assert added.status_code == 302 and added.location.endswith(f"/admin/rooms/{room.id}/schedule")
    assert count(Closure, Closure.room_id == room.id) > 0


def test_equipment_and_user_errors(auth, client, make_room, make_user):
    room = make_room()
    admin = make_user(role="admin", clinic=room.clinic)
    auth.login(admin)
    token = auth.csrf_token()
    item = {
        "csrf_token": token,
        "room_id": room.id,
        "workstation_id": 0,
        "kind": "computer",
        "inventory_number": "ИНВ-1",
        "notes": "",
    }
    assert client.post(f"/admin/clinics/{room.clinic_id}/equipment/new", data=item).status_code == 302
    again = client.post(f"/admin/clinics/{room.clinic_id}/equipment/new", data=item)
    assert again.status_code == 400
    assert "ИНВ-1" in field_error(again.get_data(as_text=True), "inventory_number")
    assert count(EquipmentItem) == 1

    taken = client.post(
        f"/admin/clinics/{room.clinic_id}/users/new",
        data={"csrf_token": token, "email": admin.email, "full_name": "Ольга Новая", "roles": ["doctor"]},
    )
    assert taken.status_code == 400
    assert field_error(taken.get_data(as_text=True), "email") == "Пользователь с таким e-mail уже существует."
    assert count(User) == 1
