"""Inventory numbers, an item's history, problem reports and taking a workstation out of service."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.clinics import inventory
from portal.clinics.models import EquipmentItem, ProblemReport
from portal.core.models import AuditEntry, Notification
from portal.extensions import db


@pytest.fixture
def room_admin(make_room, make_user):
    room = make_room()
    return room, make_user(role="admin", clinic=room.clinic)


def test_a_duplicate_inventory_number_is_a_field_error(api_as, room_admin, make_room):
    room, admin = room_admin
    api = api_as(admin)
    assert (
        api.post(
            f"/api/v1/rooms/{room.id}/equipment", json={"kind": "projector", "inventory_number": "ИН-001"}
        ).status_code
        == 201
    )
    other_room = make_room(clinic=room.clinic)
    response = api.post(
        f"/api/v1/rooms/{other_room.id}/equipment", json={"kind": "printer", "inventory_number": "ИН-001"}
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("inventory_number_taken", "inventory_number")
    assert db.session.scalar(select(func.count()).select_from(EquipmentItem)) == 1


def test_the_equipment_form_shows_the_duplicate_next_to_the_field(auth, client, room_admin):

    room, admin = room_admin
    inventory.create_equipment(admin, room, kind="projector", inventory_number="ИН-002")
    db.session.commit()
    auth.login(admin)
    response = client.post(
        f"/admin/clinics/{room.clinic_id}/equipment/new",
        data={
            "csrf_token": auth.csrf_token(),
            "room_id": room.id,
            "workstation_id": 0,
            "kind": "printer",
            "inventory_number": "ИН-002",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field_at = page.index('id="inventory_number"')
    assert "Инвентарный номер ИН-002 уже зарегистрирован." in page[field_at : field_at + 400]


def test_history_records_each_status_change_in_order(api_as, room_admin):
    room, admin = room_admin
    api = api_as(admin)
    item = api.post(f"/api/v1/rooms/{room.id}/equipment", json={"kind": "webcam", "inventory_number": "ИН-7"})
    item_id = item.get_json()["id"]
    for status, note in (("broken", "не включается"), ("in_repair", "отдан в сервис"), ("in_service", "")):
        assert api.patch(f"/api/v1/equipment/{item_id}", json={"status": status, "note": note}).status_code == 200
    api.patch(f"/api/v1/equipment/{item_id}", json={"note": "заменён кабель"})
    body = api.get(f"/api/v1/equipment/{item_id}").get_json()
    assert body["status"] == "in_service"
    assert [(e["from"], e["to"], e["note"]) for e in body["history"]] == [
        (None, "in_service", ""),
        ("in_service", "broken", "не включается"),
        ("broken", "in_repair", "отдан в сервис"),
        ("in_repair", "in_service", ""),
        ("in_service", "in_service", "заменён кабель"),
    ]
    assert {e["actor"] for e in body["history"]} == {admin.full_name}
    assert body["history"][0]["at"].endswith("+03:00")
    audited = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "equipment_items").order_by(AuditEntry.id)
    ).all()
    assert audited == ["equipment_created"] + ["equipment_updated"] * 4


def test_an_unknown_status_is_refused_and_leaves_no_history(api_as, room_admin):
    room, admin = room_admin
    api = api_as(admin)
    item_id = api.post(
        f"/api/v1/rooms/{room.id}/equipment", json={"kind": "webcam", "inventory_number": "ИН-8"}
    ).get_json()["id"]
    response = api.patch(f"/api/v1/equipment/{item_id}", json={"status": "lost", "note": "?"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "status"
    assert len(api.get(f"/api/v1/equipment/{item_id}").get_json()["history"]) == 1


def test_equipment_list_filters_and_exports_csv(auth, client, room_admin, make_room):

    room, admin = room_admin
    second = make_room(clinic=room.clinic, name="Лекционная")
    inventory.create_equipment(admin, room, kind="projector", inventory_number="ИН-101")
    inventory.create_equipment(admin, second, kind="projector", inventory_number="ИН-102", status="broken")
    inventory.create_equipment(admin, second, kind="printer", inventory_number="ИН-103")
    db.session.commit()
    auth.login(admin)
    page = client.get(f"/admin/clinics/{room.clinic_id}/equipment?kind=projector&status=broken")
    text = page.get_data(as_text=True)
    assert "ИН-102" in text and "ИН-101" not in text and "ИН-103" not in text
    export = client.get(f"/admin/clinics/{room.clinic_id}/equipment.csv?room_id={second.id}")
    assert export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("inventory_number,kind,status,room")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["ИН-102", "ИН-103"]


def test_the_equipment_csv_shows_formulas_typed_into_it_as_text(auth, client, room_admin, make_workstation):

    room, admin = room_admin
    workstation = make_workstation(room=room, label='=HYPERLINK("http://evil.example")')
    inventory.create_equipment(
        admin, room, kind="@sum(a1)", inventory_number="+ИН-7", workstation=workstation, notes="-1+1\r\nвторая строка"
    )
    db.session.commit()
    auth.login(admin)
    export = client.get(f"/admin/clinics/{room.clinic_id}/equipment.csv").get_data(as_text=True)
    (header, row) = csv.reader(io.StringIO(export.lstrip("\ufeff")))
    item = dict(zip(header, row, strict=True))
    assert (item["inventory_number"], item["kind"], item["workstation"], item["notes"]) == (
        "'+ИН-7",
        "'@sum(a1)",
        '\'=HYPERLINK("http://evil.example")',
        "'-1+1 вторая строка",
    )


def test_a_doctor_reports_a_fault_and_is_told_when_it_is_resolved(
    api_as, auth, client, make_workstation, room_admin, make_user, smtp_server, app, deliver_mail
):
    room, admin = room_admin
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    workstation = make_workstation(room=room)
    doctor = make_user(clinic=room.clinic)
    auth.login(doctor)
    form = client.get(f"/rooms/{room.id}/report-problem")
    assert workstation.label in form.get_data(as_text=True)
    sent = client.post(
        f"/rooms/{room.id}/report-problem",
        data={
            "csrf_token": auth.csrf_token(),
            "target": f"workstation:{workstation.id}",
            "description": "Не включается монитор",
        },
    )
    assert sent.status_code == 302
    report = db.session.scalar(select(ProblemReport))
    assert (report.status, report.workstation_id, report.reporter_id) == ("open", workstation.id, doctor.id)
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == admin.id)) == "problem_reported"

    api = api_as(admin)
    queue = api.get("/api/v1/problem-reports").get_json()["items"]
    assert [r["id"] for r in queue] == [report.id]
    backwards = api.patch(f"/api/v1/problem-reports/{report.id}", json={"status": "open"})
    assert backwards.status_code == 409 and backwards.get_json()["error"]["code"] == "invalid_transition"
    assert api.patch(f"/api/v1/problem-reports/{report.id}", json={"status": "in_progress"}).status_code == 200
    done = api.patch(
        f"/api/v1/problem-reports/{report.id}", json={"status": "resolved", "resolution": "Заменён кабель питания"}
    )
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"
    told = db.session.scalars(select(Notification).where(Notification.user_id == doctor.id)).all()
    assert [n.kind for n in told] == ["problem_resolved"]
    assert told[0].body == "Заменён кабель питания"
    deliver_mail()
    assert any(message["To"] == doctor.email for message in smtp_server.messages)


def test_a_doctor_cannot_work_the_queue(api_as, room_admin, make_workstation, make_user):
    room, _admin = room_admin
    workstation = make_workstation(room=room)
    doctor = make_user(clinic=room.clinic)
    api = api_as(doctor)
    created = api.post("/api/v1/problem-reports", json={"workstation_id": workstation.id, "description": "шумит"})
    assert created.status_code == 201
    assert api.get("/api/v1/problem-reports").get_json()["items"][0]["id"] == created.get_json()["id"]
    refused = api.patch(f"/api/v1/problem-reports/{created.get_json()['id']}", json={"status": "resolved"})
    assert refused.status_code == 403
    assert db.session.scalar(select(ProblemReport.status)) == "open"


def test_a_report_needs_a_workstation_or_an_item(api_as, room_admin, make_user):
    room, _admin = room_admin
    response = api_as(make_user(clinic=room.clinic)).post("/api/v1/problem-reports", json={"description": "?"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "missing_target"


def test_out_of_service_moves_future_bookings_or_cancels_them(api_as, room_admin, make_workstation, make_user):
    """Booking rule 8, end to end through PATCH /api/v1/workstations/{id}."""
    from portal.booking.models import Booking

    room, admin = room_admin
    broken, spare = make_workstation(room=room), make_workstation(room=room)
    first, second = make_user(clinic=room.clinic), make_user(clinic=room.clinic)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    movable = Booking(
        user_id=first.id, workstation_id=broken.id, room_id=room.id, start_at=start, end_at=start + timedelta(hours=1)
    )
    # The spare is busy at the second booking's time, so that one can only be cancelled.
    blocker = Booking(
        user_id=first.id,
        workstation_id=spare.id,
        room_id=room.id,
        start_at=start + timedelta(hours=3),
        end_at=start + timedelta(hours=4),
    )
    stuck = Booking(
        user_id=second.id,
        workstation_id=broken.id,
        room_id=room.id,
        start_at=start + timedelta(hours=3),
        end_at=start + timedelta(hours=4),
    )
    db.session.add_all([movable, blocker, stuck])
    db.session.commit()

    response = api_as(admin).patch(f"/api/v1/workstations/{broken.id}", json={"status": "out_of_service"})
    assert response.status_code == 200
    assert response.get_json()["moved_bookings"] == [movable.id]
    assert response.get_json()["cancelled_bookings"] == [stuck.id]
    db.session.expire_all()
    assert (movable.workstation_id, movable.status) == (spare.id, "booked")
    assert stuck.status == "cancelled"
    kinds = {
        user.id: db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user.id)
        )
        for user in (first, second)
    }
    assert kinds == {first.id: 1, second.id: 1}
