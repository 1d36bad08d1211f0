"""Admin screens: users and roles, the audit view, the overview and the usage report."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.clinics import faults
from portal.core.models import AuditEntry
from portal.extensions import db


def test_admin_creates_a_user_sets_roles_and_deactivates_them(auth, client, make_clinic, make_user):
    clinic = make_clinic()
    admin = make_user(role="admin", clinic=clinic)
    auth.login(admin)
    created = client.post(
        f"/admin/clinics/{clinic.id}/users/new",
        data={
            "csrf_token": auth.csrf_token(),
            "email": "Novaya@Example.org",
            "full_name": "Ольга Новая",
            "roles": ["doctor"],
        },
    )
    assert created.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "novaya@example.org"))
    assert (user.clinic_id, user.roles) == (clinic.id, ["doctor"])
    client.post(f"/admin/users/{user.id}/roles", data={"csrf_token": auth.csrf_token(), "roles": ["doctor", "trainer"]})
    client.post(f"/admin/users/{user.id}/active", data={"csrf_token": auth.csrf_token()})
    db.session.expire_all()
    assert (user.roles, user.active) == (["doctor", "trainer"], False)
    page = client.get(f"/admin/clinics/{clinic.id}/users").get_data(as_text=True)
    assert "Ольга Новая" in page and "Включить" in page
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == user.id, AuditEntry.object_type == "users")
    ).all()
    assert actions == ["user_created", "user_roles_changed", "user_deactivated"]


def test_an_admin_cannot_deactivate_their_own_account(api_as, auth, client, make_user):
    admin = make_user(role="admin")
    refused = api_as(admin).patch(f"/api/v1/users/{admin.id}", json={"active": False})
    auth.login(admin)
    page = client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": auth.csrf_token()}, follow_redirects=True)

    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "own_account"
    assert "Нельзя отключить собственную учётную запись" in page.get_data(as_text=True)
    db.session.expire_all()
    assert admin.active is True


def test_an_admin_never_grants_superadmin(api_as, make_clinic, make_user):
    clinic = make_clinic()
    admin, doctor = make_user(role="admin", clinic=clinic), make_user(clinic=clinic)
    api = api_as(admin)
    refused = api.patch(f"/api/v1/users/{doctor.id}", json={"roles": ["doctor", "superadmin"]})
    assert refused.status_code == 403
    own = api.patch(f"/api/v1/users/{admin.id}", json={"roles": ["doctor"]})
    assert own.status_code == 400 and own.get_json()["error"]["code"] == "own_admin_role"
    db.session.expire_all()
    assert doctor.roles == ["doctor"] and admin.roles == ["admin"]
    listed = api.get("/api/v1/users").get_json()["items"]
    assert {u["id"] for u in listed} == {admin.id, doctor.id}


def test_the_audit_view_filters_by_actor_and_date(auth, client, make_clinic, make_user):
    clinic = make_clinic()
    admin = make_user(role="admin", clinic=clinic, full_name="Анна Админова")
    other = make_user(role="admin", clinic=clinic, full_name="Борис Другой")
    old = datetime(2026, 1, 10, 9, tzinfo=UTC)
    db.session.add_all(
        [
            AuditEntry(action="room_created", actor_id=admin.id, clinic_id=clinic.id, at=old),
            AuditEntry(action="equipment_updated", actor_id=other.id, clinic_id=clinic.id, at=old),
            AuditEntry(action="closure_added", actor_id=admin.id, clinic_id=clinic.id, at=old + timedelta(days=30)),
        ]
    )
    db.session.commit()
    auth.login(admin)
    page = client.get(
        f"/admin/audit?clinic_id={clinic.id}&person=Админова&date_from=2026-01-01&date_to=2026-01-31"
    ).get_data(as_text=True)
    assert 'data-action="room_created"' in page
    assert 'data-action="equipment_updated"' not in page and 'data-action="closure_added"' not in page


def test_navigation_and_dashboard_show_administration_to_admins_only(auth, client, make_clinic, make_user):
    clinic = make_clinic()
    doctor, admin = make_user(clinic=clinic), make_user(role="admin", clinic=clinic)
    auth.login(doctor)
    assert "/admin/" not in client.get("/dashboard").get_data(as_text=True)
    assert client.get(f"/admin/clinics/{clinic.id}").status_code == 403
    auth.logout()
    auth.login(admin)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/admin/"' in dashboard and 'id="admin-panel"' in dashboard


def test_overview_lists_workstations_out_of_service_and_open_reports(
    auth, client, make_room, make_workstation, make_user
):

    room = make_room(name="Кабинет роста")
    broken = make_workstation(room=room, label="ПК-7", status="out_of_service")
    admin, doctor = make_user(role="admin", clinic=room.clinic), make_user(clinic=room.clinic)
    faults.report_problem(doctor, room, description="Мерцает экран", now=datetime.now(UTC), workstation=broken)
    db.session.commit()
    auth.login(admin)
    page = client.get(f"/admin/clinics/{room.clinic_id}").get_data(as_text=True)
    assert "Кабинет роста / ПК-7" in page and "Мерцает экран" in page


def _usage_fixture(make_room, make_workstation, make_user):
    """January 2026 (a past month): one room open 08–20 Moscow every day, two workstations."""
    from portal.booking.models import Booking
    from portal.search.models import SearchEvent
    from portal.training.models import Course, Enrolment, TrainingSession

    room = make_room(hours=((time(8), time(20)),))
    first, second = make_workstation(room=room), make_workstation(room=room)
    admin, doctor = make_user(role="admin", clinic=room.clinic), make_user(clinic=room.clinic)
    monday_10_msk = datetime(2026, 1, 12, 7, tzinfo=UTC)
    db.session.add_all(
        [
            Booking(
                user_id=doctor.id,
                workstation_id=first.id,
                room_id=room.id,
                start_at=monday_10_msk,
                end_at=monday_10_msk + timedelta(hours=2),
                status="completed",
            ),
            Booking(
                user_id=doctor.id,
                workstation_id=second.id,
                room_id=room.id,
                start_at=monday_10_msk,
                end_at=monday_10_msk + timedelta(hours=1),
                status="no_show",
            ),
            AuditEntry(
                action="booking_refused",
                clinic_id=room.clinic_id,
                actor_id=doctor.id,
                at=monday_10_msk - timedelta(days=1),
            ),
            SearchEvent(clinic_id=room.clinic_id, source="pubmed", at=monday_10_msk, ok=True, latency_ms=300),
            SearchEvent(clinic_id=room.clinic_id, source="pubmed", at=monday_10_msk, ok=False, latency_ms=900),
            SearchEvent(clinic_id=room.clinic_id, source="pubmed", at=monday_10_msk, ok=True, latency_ms=500),
            SearchEvent(
                clinic_id=room.clinic_id, source="pubmed", at=monday_10_msk, ok=True, latency_ms=0, cached=True
            ),
        ]
    )
    course = Course(clinic_id=room.clinic_id, title="Доказательная медицина", academic_hours=2)
    session = TrainingSession(
        course=course,
        room_id=room.id,
        start_at=monday_10_msk + timedelta(days=2),
        end_at=monday_10_msk + timedelta(days=2, hours=2),
        capacity=4,
        seats_taken=4,
    )
    db.session.add_all([course, session])
    db.session.flush()
    db.session.add(Enrolment(session_id=session.id, user_id=doctor.id, status="waitlisted", waitlist_seq=1))
    db.session.commit()
    return room, admin


def test_usage_report_counts_occupancy_no_shows_refusals_trainings_and_searches(
    api_as, make_room, make_workstation, make_user
):
    room, admin = _usage_fixture(make_room, make_workstation, make_user)
    report = api_as(admin).get(f"/api/v1/reports/usage?clinic_id={room.clinic_id}&month=2026-01").get_json()
    open_minutes = 31 * 12 * 60
    (room_row,) = report["rooms"]
    assert room_row["open_minutes"] == open_minutes
    assert room_row["booked_minutes"] == 120  # the no-show does not occupy the workstation
    assert room_row["occupancy"] == round(120 / (2 * open_minutes), 4)
    assert [ws["booked_minutes"] for ws in room_row["workstations"]] == [120, 0]
    assert report["bookings"]["no_shows"] == 1 and report["bookings"]["refused"] == 1
    assert report["trainings"]["fill_rate"] == 1 and report["trainings"]["waitlisted"] == 1
    # The answer from the cache counts as a search but not in the upstream's latency.
    assert report["searches"] == {"pubmed": {"searches": 4, "cached": 1, "errors": 1, "median_latency_ms": 500}}
    monday_10 = next(cell for cell in report["heatmap"] if (cell["weekday"], cell["hour"]) == (0, 10))
    # January 2026 has four Mondays: the 10:00 cell holds 4 × 60 min × 2 workstations of open time.
    assert monday_10["open_minutes"] == 480 and monday_10["booked_minutes"] == 60
    assert [point["month"] for point in report["trend"]][-2:] == ["2025-12", "2026-01"]
    assert report["trend"][-1]["no_shows"] == 1


def _usage_csv(client, room):
    export = client.get(f"/admin/clinics/{room.clinic_id}/usage.csv?month=2026-01").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    assert rows[0] == ["Раздел", "Объект", "Показатель", "Значение"]
    return {(section, item, figure): value for section, item, figure, value in rows[1:]}


def test_usage_page_shows_labelled_charts_and_the_csv_the_same_figures(
    auth, client, make_room, make_workstation, make_user
):
    from portal.booking.models import Booking

    room, admin = _usage_fixture(make_room, make_workstation, make_user)
    tuesday_12_msk = datetime(2026, 1, 13, 9, tzinfo=UTC)
    db.session.add(
        Booking(
            user_id=admin.id,
            workstation_id=room.workstations[0].id,
            room_id=room.id,
            start_at=tuesday_12_msk,
            end_at=tuesday_12_msk + timedelta(hours=3, minutes=12),
            status="completed",
        )
    )
    db.session.commit()
    auth.login(admin)
    page = client.get(f"/admin/clinics/{room.clinic_id}/usage?month=2026-01").get_data(as_text=True)
    # 5.2 booked hours of 2 × 31 × 12 open ones: 0.7%, not 0%.
    assert '<span id="usage-occupancy">0,7%</span>' in page
    assert f"<th>{room.name}</th><th>5,2</th><th>0,7%</th>" in page
    heatmap = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart-heatmap"') :]
    heatmap = heatmap[: heatmap.index("</svg>")]
    assert ">Пн</text>" in heatmap and ">10:00</text>" in heatmap
    assert 'data-occupancy="0.125"' in heatmap and ">12,5%</text>" in heatmap  # Monday 10:00: 60 of 480 minutes
    # The colour scale ends at 20%, the first step above the busiest hour's 12.5%, and says so.
    assert 'data-scale-end="0.2"' in heatmap
    assert all(f">{label}</text>" in heatmap for label in ("0,0%", "10,0%", "20,0%", "закрыто"))
    trend = page[page.index('class="chart-trend"') :]
    assert ">янв. 2026</text>" in trend[: trend.index("</svg>")] and ">0,7%</text>" in trend
    assert "<td>январь 2026</td><td>0,7%</td>" in page
    assert "<td>PubMed</td>" in page and "<td>pubmed</td>" not in page

    figures = _usage_csv(client, room)
    assert figures["Поликлиника", room.clinic.name, "Загрузка, %"] == "0.7"
    assert figures["Кабинеты и рабочие места", room.name, "Забронировано, ч"] == "5.2"
    assert figures["Брони", "", "Неявки"] == "1"
    assert figures["Поиски по источникам", "PubMed", "Медианное время, мс"] == "500"
    assert figures["Загрузка по дням недели и часам", "Пн 10:00", "Загрузка, %"] == "12.5"
    assert figures["Загрузка по месяцам", "январь 2026", "Загрузка, %"] == "0.7"


def test_the_usage_csv_shows_a_formula_in_a_room_name_as_text(auth, client, make_room, make_workstation, make_user):
    room, admin = _usage_fixture(make_room, make_workstation, make_user)
    room.name = "=1+1"
    db.session.commit()
    auth.login(admin)
    figures = _usage_csv(client, room)
    assert figures["Кабинеты и рабочие места", "'=1+1", "Забронировано, ч"] == "2.0"


def test_a_malformed_month_is_a_400(api_as, make_clinic, make_user):
    clinic = make_clinic()
    response = api_as(make_user(role="admin", clinic=clinic)).get("/api/v1/reports/usage?month=январь")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_month"


def test_openapi_documents_every_admin_endpoint(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [
        ("/rooms/{room_id}/policy", "patch"),
        ("/rooms/{room_id}/hours", "put"),
        ("/rooms/{room_id}/closures", "post"),
        ("/workstations/{workstation_id}", "patch"),
        ("/rooms/{room_id}/equipment", "post"),
        ("/equipment/{item_id}", "patch"),
        ("/problem-reports", "post"),
        ("/problem-reports/{report_id}", "patch"),
        ("/reports/usage", "get"),
        ("/users", "get"),
        ("/users", "post"),
        ("/users/{user_id}", "patch"),
    ]:
        assert method in paths[path], (path, method)
