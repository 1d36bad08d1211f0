"""The permission matrix: every admin endpoint, UI and API, for three callers.

An admin of clinic A must get 403/404 for every room, workstation, item,
report and user of clinic B, and change nothing; a doctor of clinic B is
refused the admin endpoints too; clinic B's own admin succeeds with the very
same requests (which proves the table's URLs and payloads are real).
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from portal.auth.models import User
from portal.clinics import faults, inventory, timetable
from portal.clinics.models import Closure, EquipmentItem, ProblemReport
from portal.core.models import AuditEntry
from portal.extensions import db
from tests.conftest import PASSWORD

NEXT_YEAR = datetime.now(UTC).year + 1
START = f"{NEXT_YEAR}-03-02T09:00:00+03:00"
END = f"{NEXT_YEAR}-03-02T12:00:00+03:00"

# (channel, method, url, body). {clinic}, {room}, {ws}, {item}, {report}, {user}, {closure} are clinic B's.
ENDPOINTS = [
    ("api", "POST", "/api/v1/clinics/{clinic}/rooms", {"name": "Новый", "capacity": 4}),
    ("api", "PATCH", "/api/v1/rooms/{room}", {"name": "Переименован"}),
    ("api", "PATCH", "/api/v1/rooms/{room}/policy", {"slot_minutes": 30, "min_minutes": 30}),
    ("api", "GET", "/api/v1/rooms/{room}/hours", None),
    ("api", "PUT", "/api/v1/rooms/{room}/hours", {"hours": [{"weekday": 0, "open": "09:00", "close": "18:00"}]}),
    ("api", "GET", "/api/v1/rooms/{room}/closures", None),
    ("api", "POST", "/api/v1/rooms/{room}/closures", {"start": START, "end": END, "reason": "ремонт"}),
    ("api", "POST", "/api/v1/rooms/{room}/closures/public-holidays", {"year": NEXT_YEAR}),
    ("api", "DELETE", "/api/v1/closures/{closure}", None),
    ("api", "GET", "/api/v1/rooms/{room}/workstations", None),
    ("api", "POST", "/api/v1/rooms/{room}/workstations", {"label": "ПК-99"}),
    ("api", "PATCH", "/api/v1/workstations/{ws}", {"status": "retired", "specs": "новые"}),
    ("api", "GET", "/api/v1/rooms/{room}/equipment", None),
    ("api", "POST", "/api/v1/rooms/{room}/equipment", {"kind": "printer", "inventory_number": "INV-NEW"}),
    ("api", "GET", "/api/v1/equipment/{item}", None),
    ("api", "PATCH", "/api/v1/equipment/{item}", {"status": "broken", "note": "не включается"}),
    ("api", "GET", "/api/v1/problem-reports?clinic_id={clinic}", None),
    ("api", "GET", "/api/v1/problem-reports/{report}", None),
    ("api", "PATCH", "/api/v1/problem-reports/{report}", {"status": "in_progress"}),
    ("api", "GET", "/api/v1/reports/usage?clinic_id={clinic}&month=2026-01", None),
    ("api", "GET", "/api/v1/users?clinic_id={clinic}", None),
    ("api", "GET", "/api/v1/users/{user}", None),
    ("api", "PATCH", "/api/v1/users/{user}", {"roles": ["doctor", "trainer"]}),
    ("api", "PATCH", "/api/v1/users/{user}", {"active": False}),
    (
        "api",
        "POST",
        "/api/v1/users",
        {"email": "new@example.org", "full_name": "Новый Врач", "role": "doctor", "clinic_id": "{clinic}"},
    ),
    ("ui", "GET", "/admin/clinics/{clinic}", None),
    ("ui", "GET", "/admin/clinics/{clinic}/rooms/new", None),
    ("ui", "POST", "/admin/clinics/{clinic}/rooms/new", {"name": "Новый", "location": "", "capacity": "4"}),
    ("ui", "GET", "/admin/rooms/{room}", None),
    ("ui", "POST", "/admin/rooms/{room}", {"name": "Переименован", "location": "", "capacity": "4"}),
    (
        "ui",
        "POST",
        "/admin/rooms/{room}/policy",
        {
            "slot_minutes": "30",
            "min_minutes": "30",
            "max_minutes": "240",
            "horizon_days": "14",
            "max_active": "3",
            "max_daily_minutes": "240",
            "checkin_grace_minutes": "15",
        },
    ),
    ("ui", "POST", "/admin/rooms/{room}/workstations", {"labels": "ПК-98, ПК-99", "specs": ""}),
    ("ui", "POST", "/admin/workstations/{ws}", {"status": "retired"}),
    ("ui", "GET", "/admin/rooms/{room}/schedule", None),
    ("ui", "POST", "/admin/rooms/{room}/schedule", {"day_0": "09:00-18:00"}),
    (
        "ui",
        "POST",
        "/admin/rooms/{room}/closures",
        {"start": f"{NEXT_YEAR}-03-02T09:00", "end": f"{NEXT_YEAR}-03-02T12:00", "reason": "ремонт"},
    ),
    ("ui", "POST", "/admin/rooms/{room}/holidays", {"year": str(NEXT_YEAR)}),
    ("ui", "POST", "/admin/closures/{closure}/delete", {}),
    ("ui", "GET", "/admin/clinics/{clinic}/equipment", None),
    ("ui", "GET", "/admin/clinics/{clinic}/equipment.csv", None),
    ("ui", "GET", "/admin/clinics/{clinic}/equipment/new", None),
    (
        "ui",
        "POST",
        "/admin/clinics/{clinic}/equipment/new",
        {"room_id": "{room}", "workstation_id": "0", "kind": "printer", "inventory_number": "INV-NEW"},
    ),
    ("ui", "GET", "/admin/equipment/{item}", None),
    ("ui", "POST", "/admin/equipment/{item}", {"status": "broken", "note": "не включается"}),
    ("ui", "GET", "/admin/clinics/{clinic}/problem-reports", None),
    ("ui", "POST", "/admin/problem-reports/{report}", {"status": "in_progress"}),
    ("ui", "GET", "/admin/clinics/{clinic}/users", None),
    ("ui", "GET", "/admin/clinics/{clinic}/users/new", None),
    (
        "ui",
        "POST",
        "/admin/clinics/{clinic}/users/new",
        {"email": "new@example.org", "full_name": "Новый Врач", "roles": "doctor"},
    ),
    ("ui", "POST", "/admin/users/{user}/roles", {"roles": ["doctor", "trainer"]}),
    ("ui", "POST", "/admin/users/{user}/active", {}),
    ("ui", "GET", "/admin/clinics/{clinic}/usage?month=2026-01", None),
    ("ui", "GET", "/admin/clinics/{clinic}/usage.csv?month=2026-01", None),
    ("ui", "GET", "/admin/audit?clinic_id={clinic}", None),
]

CALLERS = ["admin_of_clinic_a", "doctor_of_clinic_b", "admin_of_clinic_b"]


def _quick_user(role, clinic, email):
    """A user with a cheap password hash: this matrix signs in hundreds of times."""
    user = User(
        email=email,
        full_name=f"Пользователь {email}",
        clinic=clinic,
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
    )
    user.set_roles([role])
    db.session.add(user)
    return user


@pytest.fixture
def clinic_b(make_clinic, make_workstation, make_room):

    clinic = make_clinic()
    room = make_room(clinic=clinic)
    workstation = make_workstation(room=room, status="out_of_service")
    target_user = _quick_user("doctor", clinic, "target@example.org")
    reporter = _quick_user("doctor", clinic, "reporter@example.org")
    db.session.flush()
    item = inventory.create_equipment(None, room, kind="projector", inventory_number="INV-B-1")
    report = faults.report_problem(
        reporter, room, description="Не работает", now=datetime.now(UTC), workstation=workstation
    )
    closure, _cancelled = timetable.add_closure(
        None,
        room,
        start=datetime(NEXT_YEAR, 1, 5, tzinfo=UTC),
        end=datetime(NEXT_YEAR, 1, 6, tzinfo=UTC),
        reason="санобработка",
        now=datetime.now(UTC),
    )
    db.session.commit()
    return {
        "clinic": clinic.id,
        "room": room.id,
        "ws": workstation.id,
        "item": item.id,
        "report": report.id,
        "user": target_user.id,
        "closure": closure.id,
    }


def _fill(value, ids):
    if isinstance(value, str):
        formatted = value.format(**ids)
        return int(formatted) if value.startswith("{") and formatted.isdigit() and value != formatted else formatted
    if isinstance(value, list):
        return [_fill(each, ids) for each in value]
    if isinstance(value, dict):
        return {key: _fill(each, ids) for key, each in value.items()}
    return value


def _writes():
    """What a request could have written: admin audit rows and the objects' states."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.notlike("sign_in%"), AuditEntry.action != "api_token_created")
        ),
        db.session.scalar(select(func.count()).select_from(Closure)),
        tuple(db.session.scalars(select(EquipmentItem.status))),
        tuple(db.session.scalars(select(ProblemReport.status))),
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    "channel, method, url, body",
    ENDPOINTS,
    ids=[f"{channel}-{method}-{url}" for channel, method, url, _body in ENDPOINTS],
)
def test_admin_endpoints_stay_inside_the_callers_clinic(
    caller, channel, method, url, body, clinic_b, client, auth, api_as, make_clinic
):
    from portal.clinics.models import Clinic

    home = make_clinic() if caller == "admin_of_clinic_a" else db.session.get(Clinic, clinic_b["clinic"])
    user = _quick_user("doctor" if caller == "doctor_of_clinic_b" else "admin", home, "caller@example.org")
    db.session.commit()
    url, body = _fill(url, clinic_b), _fill(body, clinic_b)
    before = _writes()

    if channel == "api":
        response = getattr(api_as(user), method.lower())(url, **({"json": body} if body is not None else {}))
    else:
        auth.login(user)
        data = dict(body or {}, csrf_token=auth.csrf_token()) if method == "POST" else None
        response = client.open(url, method=method, data=data)

    db.session.expire_all()
    if caller == "admin_of_clinic_b":
        assert response.status_code < 400, response.get_data(as_text=True)[:500]
    else:
        expected = {404} if caller == "admin_of_clinic_a" else {403, 404}
        assert response.status_code in expected, response.get_data(as_text=True)[:500]
        assert _writes() == before
