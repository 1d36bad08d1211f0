"""Connecting polyclinics: the CSV import (command line and web), clinics and rooms in the web
interface and the API, and what deactivating a clinic or withdrawing a room does to its people."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import ApiToken
from portal.booking import creating as booking_services
from portal.booking.models import Booking
from portal.clinics.models import Clinic, Room, Workstation
from portal.core.db import utcnow
from portal.core.models import Notification
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from portal.training.models import TrainingSession
from tests.conftest import csrf_token_from

HEADER = (
    "clinic_code,clinic_name,clinic_short_name,address,timezone,room,room_location,room_capacity,"
    "workstation,workstation_specs\n"
)
CITY_FILE = HEADER + (
    '0194,Детская городская поликлиника № 94,ДГП-94,"ул. Лётчика Бабушкина, 4",Europe/Moscow,'
    "Кабинет роста,2 этаж,12,ПК-1,i5/16 ГБ\n"
    "0194,,,,,Кабинет роста,,,ПК-2,i5/16 ГБ\n"
    "0071,Детская городская поликлиника № 71,ДГП-71,,,Библиотека,1 этаж,8,ПК-1,\n"
    "0033,Детская городская поликлиника № 33,ДГП-33,,Europe/Samara,,,,,\n"
)


def invoke(app, *args):
    db.session.commit()
    return app.test_cli_runner().invoke(args=list(args))


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Clinic, Room, Workstation))


@pytest.fixture
def city_file(tmp_path):
    path = tmp_path / "city.csv"
    path.write_text(CITY_FILE, encoding="utf-8")
    return path


def tomorrow_at(hour, tz="Europe/Moscow"):
    day = to_local(utcnow(), tz).date() + timedelta(days=1)
    return local_to_utc(datetime.combine(day, time(hour)), tz)


# --- the import from the command line ------------------------------------------------------------


def test_a_dry_run_prints_the_plan_and_writes_nothing(app, city_file):
    result = invoke(app, "portal", "import-clinics", str(city_file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would make 8 change(s)" in result.output
    assert "создать: поликлиника 0194 ДГП-94" in result.output
    assert "создать: рабочее место ДГП-94 / Кабинет роста / ПК-2" in result.output
    assert counts() == (0, 0, 0)


def test_the_import_creates_everything_and_a_second_import_changes_nothing(app, city_file):
    result = invoke(app, "portal", "import-clinics", str(city_file))
    assert result.exit_code == 0, result.output
    assert counts() == (3, 2, 3)
    clinic = db.session.scalar(select(Clinic).where(Clinic.code == "0194"))
    assert (clinic.short_name, clinic.address, clinic.timezone) == (
        "ДГП-94",
        "ул. Лётчика Бабушкина, 4",
        "Europe/Moscow",
    )
    room = clinic.rooms[0]
    assert (room.name, room.location, room.capacity) == ("Кабинет роста", "2 этаж", 12)
    assert [ws.label for ws in room.workstations] == ["ПК-1", "ПК-2"]
    assert db.session.scalar(select(Clinic.timezone).where(Clinic.code == "0033")) == "Europe/Samara"

    again = invoke(app, "portal", "import-clinics", str(city_file))
    assert again.exit_code == 0 and "Imported: 0 change(s)." in again.output
    assert counts() == (3, 2, 3)


def test_a_changed_file_updates_what_differs(app, city_file):
    invoke(app, "portal", "import-clinics", str(city_file))
    city_file.write_text(
        CITY_FILE.replace("2 этаж,12", "3 этаж,16").replace("ДГП-33,,Europe/Samara", "ДГП-33,,Europe/Moscow"),
        encoding="utf-8",
    )
    result = invoke(app, "portal", "import-clinics", str(city_file), "--dry-run")
    assert "would make 2 change(s)" in result.output
    assert "capacity: 12 → 16" in result.output and "timezone: Europe/Samara → Europe/Moscow" in result.output
    invoke(app, "portal", "import-clinics", str(city_file))
    assert db.session.scalar(select(Room.capacity).where(Room.name == "Кабинет роста")) == 16


def test_one_bad_row_imports_nothing_and_names_every_bad_row(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "0194,ДГП № 94,ДГП-94,,,Кабинет,,12,ПК-1,\n"
        "0195,,,,,Кабинет,,,ПК-1,\n"  # a new clinic without a name
        "0196,ДГП № 96,ДГП-96,,Mars/Olympus,,,,,\n"  # an unknown time zone
        "0194,ДГП № 94,ДГП-94,,,,,,ПК-3,\n"  # a workstation without its room
        "0194,Другое название,ДГП-94,,,,,,,\n",  # contradicts row 2
        encoding="utf-8",
    )
    result = invoke(app, "portal", "import-clinics", str(path))
    assert result.exit_code != 0
    for row in (3, 4, 5, 6):
        assert f"строка {row}:" in result.output
    assert "строка 2:" not in result.output
    assert counts() == (0, 0, 0)


def test_a_file_with_other_columns_is_refused(app, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("email,full_name,role,clinic\n", encoding="utf-8")
    result = invoke(app, "portal", "import-clinics", str(path))
    assert result.exit_code != 0 and "clinic_code" in result.output


# --- the same import in the web interface -------------------------------------------------------


def upload(client, text, dry_run):
    token = csrf_token_from(client.get("/admin/clinics/import").get_data(as_text=True))
    data = {"csrf_token": token, "file": (__import__("io").BytesIO(text.encode()), "city.csv")}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/admin/clinics/import", data=data, content_type="multipart/form-data")


def test_a_superadmin_imports_in_the_browser_after_a_dry_run(auth, client, make_user):
    auth.login(make_user("superadmin"))
    plan = upload(client, CITY_FILE, dry_run=True)
    assert plan.status_code == 200
    assert "Импорт внесёт изменений: 8" in plan.get_data(as_text=True)
    assert counts() == (0, 0, 0)
    done = upload(client, CITY_FILE, dry_run=False)
    assert "Импортировано изменений: 8." in done.get_data(as_text=True)
    assert counts() == (3, 2, 3)


def test_a_bad_upload_shows_its_rows_and_writes_nothing(auth, client, make_user):
    auth.login(make_user("superadmin"))
    answer = upload(client, HEADER + "0194,,,,,,,,,\n", dry_run=False)
    assert answer.status_code == 400
    assert "строка 2:" in answer.get_data(as_text=True)
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("path", ["/admin/clinics/import", "/admin/clinics/new", "/admin/city"])
def test_clinic_admins_cannot_open_the_city_screens(auth, client, make_user, path):
    auth.login(make_user("admin"))
    assert client.get(path).status_code == 403


# --- clinics in the web interface and the API -------------------------------------------------------


def test_a_superadmin_creates_and_edits_a_clinic(auth, client, make_user, make_clinic):
    make_clinic(code="0071")
    auth.login(make_user("superadmin"))
    token = csrf_token_from(client.get("/admin/clinics/new").get_data(as_text=True))
    form = {
        "csrf_token": token,
        "name": "Детская городская поликлиника № 94",
        "short_name": "ДГП-94",
        "code": "0071",
        "address": "",
        "timezone": "Europe/Moscow",
    }
    taken = client.post("/admin/clinics/new", data=form)
    assert taken.status_code == 400 and "Этот код уже у другой поликлиники." in taken.get_data(as_text=True)
    created = client.post("/admin/clinics/new", data={**form, "code": "0194"})
    assert created.status_code == 302
    clinic = db.session.scalar(select(Clinic).where(Clinic.code == "0194"))
    edited = client.post(f"/admin/clinics/{clinic.id}/edit", data={**form, "code": "0194-A", "name": "ДГП № 94"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Clinic, clinic.id).code, db.session.get(Clinic, clinic.id).name) == ("0194-A", "ДГП № 94")


def test_an_admin_creates_a_room_in_their_clinic(auth, client, make_user):
    admin = make_user("admin")
    auth.login(admin)
    page = client.get(f"/admin/clinics/{admin.clinic_id}/rooms/new").get_data(as_text=True)
    answer = client.post(
        f"/admin/clinics/{admin.clinic_id}/rooms/new",
        data={"csrf_token": csrf_token_from(page), "name": "Кабинет роста", "location": "2 этаж", "capacity": "10"},
    )
    assert answer.status_code == 302
    assert db.session.scalar(select(Room.clinic_id).where(Room.name == "Кабинет роста")) == admin.clinic_id


def test_the_api_sets_a_clinic_code(api_as, make_user, make_clinic):
    other = make_clinic(code="0071")
    clinic = make_clinic()
    city = api_as(make_user("superadmin"))
    answer = city.patch(f"/api/v1/clinics/{clinic.id}", json={"code": "0194"})
    assert answer.status_code == 200 and answer.get_json()["code"] == "0194"
    taken = city.patch(f"/api/v1/clinics/{clinic.id}", json={"code": other.code})
    assert taken.status_code == 400 and taken.get_json()["error"]["code"] == "code_taken"
    unknown = city.patch(f"/api/v1/clinics/{clinic.id}", json={"colour": "red"})
    assert unknown.status_code == 400
    admin = api_as(make_user("admin", clinic=clinic))
    assert admin.patch(f"/api/v1/clinics/{clinic.id}", json={"code": "X"}).status_code == 403
    assert admin.patch(f"/api/v1/clinics/{other.id}", json={"code": "X"}).status_code == 404
    listed = city.get("/api/v1/clinics").get_json()["items"]
    assert {item["code"] for item in listed} == {"0071", "0194"}


def test_deactivating_a_clinic_locks_its_people_out_and_cancels_its_future(
    app, api_as, auth, client, make_user, make_room, make_workstation
):
    room = make_room()
    clinic = room.clinic
    doctor = make_user("doctor", clinic=clinic)
    booking = booking_services.create_booking(
        doctor, workstation=make_workstation(room=room), start=tomorrow_at(10), end=tomorrow_at(11), now=utcnow()
    )
    db.session.commit()
    doctor_api = api_as(doctor)
    doctor_browser = app.test_client()
    from tests.conftest import Auth

    Auth(doctor_browser).login(doctor)
    assert doctor_browser.get("/dashboard").status_code == 200

    auth.login(make_user("superadmin"))
    token = csrf_token_from(client.get(f"/admin/clinics/{clinic.id}/edit").get_data(as_text=True))
    assert client.post(f"/admin/clinics/{clinic.id}/active", data={"csrf_token": token}).status_code == 302

    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == doctor.id, Notification.kind == "booking_cancelled")
        )
        == 1
    )
    assert doctor_browser.get("/dashboard").status_code == 302  # signed out
    assert doctor_api.get("/api/v1/me").status_code == 401
    assert db.session.scalar(select(ApiToken.revoked_at)) is not None
    refused = Auth(app.test_client()).login(doctor)
    assert refused.status_code == 401 and "отключена от портала" in refused.get_data(as_text=True)
    assert clinic.id not in [
        item["id"]
        for item in api_as(make_user("superadmin", email="b@example.org")).get("/api/v1/clinics").get_json()["items"]
        if item["active"]
    ]

    token = csrf_token_from(client.get(f"/admin/clinics/{clinic.id}/edit").get_data(as_text=True))
    client.post(f"/admin/clinics/{clinic.id}/active", data={"csrf_token": token, "active": "y"})
    assert Auth(app.test_client()).login(doctor).status_code == 302


def test_withdrawing_a_room_cancels_its_bookings_and_trainings_and_hides_it(
    api_as, auth, client, make_user, make_room, make_workstation
):
    room = make_room()
    other_room = make_room(clinic=room.clinic)
    workstation = make_workstation(room=room)
    doctor = make_user("doctor", clinic=room.clinic)
    admin = make_user("admin", clinic=room.clinic)
    booking = booking_services.create_booking(
        doctor, workstation=workstation, start=tomorrow_at(10), end=tomorrow_at(11), now=utcnow()
    )
    api = api_as(admin)
    db.session.commit()
    session = api.post(
        "/api/v1/trainings",
        json={
            "room_id": room.id,
            "course": {"title": "Работа с PubMed", "academic_hours": 2},
            "start": tomorrow_at(14).isoformat(),
            "end": tomorrow_at(15).isoformat(),
            "capacity": 5,
            "whole_room": False,
        },
    ).get_json()
    api_as(doctor).post(f"/api/v1/trainings/{session['id']}/enrolment")

    auth.login(admin)
    token = csrf_token_from(client.get(f"/admin/rooms/{room.id}").get_data(as_text=True))
    assert client.post(f"/admin/rooms/{room.id}/active", data={"csrf_token": token}).status_code == 302

    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert db.session.get(TrainingSession, session["id"]).status == "cancelled"
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.user_id == doctor.id)))
    assert {"booking_cancelled", "training_cancelled"} <= kinds
    doctor_api = api_as(doctor)
    refused = doctor_api.post(
        "/api/v1/bookings",
        json={
            "workstation_id": workstation.id,
            "start": tomorrow_at(12).isoformat(),
            "end": tomorrow_at(13).isoformat(),
        },
    )
    assert refused.status_code in (403, 409)
    auth.logout()
    auth.login(doctor)
    assert client.get("/booking").headers.get("Location", "").endswith(f"/rooms/{other_room.id}/schedule")
