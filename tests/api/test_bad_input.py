"""Input that used to answer 500 or slip through: dates outside 2000–2100, offsets that are not whole
minutes, empty query values, JSON nested deep, lone surrogates, NUL characters, huge path ids,
oversized bodies, wrong methods. Each is a 400 (413, 405) in the error shape naming the field,
and a refused request stores nothing."""

import json
import re

import pytest
from sqlalchemy import func, select

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.time import TIME_PATTERN
from portal.extensions import db
from portal.training.models import TrainingSession
from tests.api.test_api_base import assert_error

BAD_TIMES = [
    "9999-12-31T10:00:00+03:00",
    "0001-01-01T10:00:00+03:00",
    "1999-12-31T10:00:00+03:00",
    "2026-03-02T10:00:00+02:30:17",
    "2026-03-02T10:00:00",
    "2026-02-30T10:00:00Z",
    "2026-03-02 10:00:00Z",
    "2026-03-02T10:00+03:00",
    "",
]
BAD_DAYS = ["9999-12-31", "0001-01-01", "2101-01-01", "2026-02-30", "2026-3-2", ""]


@pytest.fixture
def room_admin(make_user, make_room, make_workstation):
    room = make_room()
    workstation = make_workstation(room=room)
    admin = make_user(role=["admin", "trainer", "doctor"], clinic=room.clinic)
    return room, workstation, admin


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("field", ["start", "end"])
def test_a_booking_outside_the_years_or_with_an_odd_offset_is_a_400_naming_the_field(api_as, room_admin, field, value):
    room, workstation, admin = room_admin
    body = {
        "workstation_id": workstation.id,
        "start": "2030-03-04T10:00:00+03:00",
        "end": "2030-03-04T11:00:00+03:00",
        field: value,
    }
    error = assert_error(api_as(admin).post("/api/v1/bookings", json=body), 400, "invalid_time")
    assert error["field"] == field and "2000" in error["message"]
    assert count(Booking) == 0


@pytest.mark.parametrize("value", BAD_TIMES)
def test_a_closure_at_the_end_of_time_is_refused_and_the_room_stays_usable(api_as, auth, client, room_admin, value):
    room, _workstation, admin = room_admin
    api = api_as(admin)
    error = assert_error(
        api.post(
            f"/api/v1/rooms/{room.id}/closures",
            json={"start": value, "end": "2030-03-04T11:00:00+03:00", "reason": "ремонт"},
        ),
        400,
        "invalid_time",
    )
    assert error["field"] == "start"
    assert count(Closure) == 0
    assert api.get(f"/api/v1/rooms/{room.id}/closures").status_code == 200
    auth.login(admin)
    assert client.get(f"/admin/rooms/{room.id}/schedule").status_code == 200


def test_a_training_at_the_end_of_time_is_refused(api_as, room_admin):
    room, _workstation, admin = room_admin
    error = assert_error(
        api_as(admin).post(
            "/api/v1/trainings",
            json={
                "room_id": room.id,
                "course": {"title": "ЭКГ", "academic_hours": 1},
                "start": "9999-12-31T10:00:00+03:00",
                "end": "9999-12-31T11:00:00+03:00",
                "capacity": 5,
            },
        ),
        400,
        "invalid_time",
    )
    assert error["field"] == "start"
    assert count(TrainingSession) == 0


@pytest.mark.parametrize("value", BAD_DAYS)
def test_availability_of_a_day_outside_the_years_is_a_400(api_as, room_admin, value):
    room, _workstation, admin = room_admin
    error = assert_error(api_as(admin).get(f"/api/v1/rooms/{room.id}/availability?date={value}"), 400)
    assert error["field"] == "date"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/bookings?from={}", "/api/v1/bookings?to={}", "/api/v1/trainings?from={}", "/api/v1/trainings?to={}"],
)
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-03-02T10:00:00+02:30:17", ""])
def test_lists_refuse_times_outside_the_years_and_empty_values(api_as, room_admin, path, value):
    _room, _workstation, admin = room_admin
    error = assert_error(api_as(admin).get(path.format(value)), 400)
    assert error["field"] == path.split("?")[1].split("=")[0]


def test_a_list_still_takes_an_unencoded_plus_of_an_offset(api_as, room_admin):
    _room, _workstation, admin = room_admin
    assert api_as(admin).get("/api/v1/bookings?from=2030-03-04T10:00:00+03:00").status_code == 200


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2026-13", ""])
def test_a_usage_report_outside_the_years_is_a_400(api_as, room_admin, month):
    room, _workstation, admin = room_admin
    error = assert_error(
        api_as(admin).get(f"/api/v1/reports/usage?clinic_id={room.clinic_id}&month={month}"), 400, "invalid_month"
    )
    assert error["field"] == "month"


@pytest.mark.parametrize(
    "query, field",
    [
        ("?room_id=", "room_id"),
        ("?limit=", "limit"),
        ("?status=", "status"),
        ("?limit=1.0", "limit"),
        ("?limit=%201", "limit"),
        ("?limit=0", "limit"),
        ("?room_id=abc", "room_id"),
    ],
)
def test_an_empty_or_malformed_query_value_is_a_400_not_ignored(api_as, room_admin, query, field):
    _room, _workstation, admin = room_admin
    error = assert_error(api_as(admin).get("/api/v1/bookings" + query), 400, "invalid_parameter")
    assert error["field"] == field


def test_times_in_answers_are_rfc_3339_in_the_clinics_zone(api_as, room_admin):
    room, _workstation, admin = room_admin
    api = api_as(admin)
    closure = api.post(
        f"/api/v1/rooms/{room.id}/closures",
        json={"start": "2030-03-04T07:00:00Z", "end": "2030-03-04T08:30:00.250Z", "reason": "ремонт"},
    ).get_json()
    assert (closure["start"], closure["end"]) == ("2030-03-04T10:00:00+03:00", "2030-03-04T11:30:00.250000+03:00")
    availability = api.get(f"/api/v1/rooms/{room.id}/availability?date=2030-03-04").get_json()
    times = [availability["from"], availability["to"]] + [
        span[edge] for ws in availability["workstations"] for span in ws["busy"] for edge in ("start", "end")
    ]
    assert len(times) > 2 and all(re.fullmatch(TIME_PATTERN, value) and value.endswith("+03:00") for value in times)


class TestBodies:
    def test_json_nested_5000_deep_is_a_400(self, api_as, room_admin):
        _room, _workstation, admin = room_admin
        deep = "[" * 5000 + "]" * 5000
        response = api_as(admin).client.post(
            "/api/v1/bookings",
            data=deep,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_as(admin).token}"},
        )
        assert_error(response, 400, "invalid_json")

    def test_json_nested_deeper_than_any_request_needs_is_a_400(self, api_as, room_admin):
        _room, _workstation, admin = room_admin
        nested = {"reason": "x"}
        for _level in range(100):
            nested = {"a": nested}
        assert_error(api_as(admin).post("/api/v1/clinics", json=nested), 400, "invalid_json")

    @pytest.mark.parametrize("text", ['"\\ud800"', '"x\\udfff"', '"\\u0000"'])
    def test_a_lone_surrogate_or_a_nul_in_a_field_is_a_400_naming_it(self, api_as, room_admin, text):
        room, _workstation, admin = room_admin
        api = api_as(admin)
        raw = f'{{"start": "2030-03-04T10:00:00+03:00", "end": "2030-03-05T10:00:00+03:00", "reason": {text}}}'
        response = api.client.post(
            f"/api/v1/rooms/{room.id}/closures",
            data=raw,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"},
        )
        error = assert_error(response, 400, "invalid_field")
        assert error["field"] == "reason"
        assert count(Closure) == 0

    def test_a_lone_surrogate_in_a_nested_field_names_the_path(self, api_as, room_admin):
        room, _workstation, admin = room_admin
        api = api_as(admin)
        raw = '{"hours": [{"weekday": 0, "open": "08:00", "close": "\\ud800"}]}'
        response = api.client.put(
            f"/api/v1/rooms/{room.id}/hours",
            data=raw,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"},
        )
        assert assert_error(response, 400)["field"] == "hours.0.close"

    def test_a_nul_in_a_query_value_is_a_400(self, api_as, room_admin):
        room, _workstation, admin = room_admin
        error = assert_error(api_as(admin).get(f"/api/v1/users?clinic_id={room.clinic_id}&q=a%00b"), 400)
        assert error["field"] == "q"

    @pytest.mark.parametrize(
        "body, field, code",
        [
            ({"name": 5, "short_name": "A"}, "name", "invalid_field"),
            ({"short_name": "A"}, "name", "missing_field"),
            ({"name": "A", "short_name": "B", "timezone": None}, "timezone", "invalid_field"),
        ],
    )
    def test_a_validation_error_names_the_field_in_russian(self, api_as, make_user, body, field, code):
        error = assert_error(api_as(make_user(role="superadmin")).post("/api/v1/clinics", json=body), 400, code)
        assert error["field"] == field
        assert field in error["message"] and any("а" <= letter <= "я" for letter in error["message"])

    @pytest.mark.parametrize("body", [{"workstation_id": "1"}, {"workstation_id": 1.0}, {"workstation_id": True}])
    def test_numbers_are_not_taken_from_text_floats_or_booleans(self, api_as, room_admin, body):
        _room, workstation, admin = room_admin
        body = {"start": "2030-03-04T10:00:00+03:00", "end": "2030-03-04T11:00:00+03:00", **body}
        error = assert_error(api_as(admin).post("/api/v1/bookings", json=body), 400, "invalid_field")
        assert error["field"] == "workstation_id"

    def test_a_body_over_the_limit_is_a_413_in_the_error_shape(self, api_as, room_admin):
        room, _workstation, admin = room_admin
        big = json.dumps(
            {"start": "2030-03-04T10:00:00+03:00", "end": "2030-03-05T10:00:00+03:00", "reason": "x" * (1024 * 1024)}
        )
        api = api_as(admin)
        response = api.client.post(
            f"/api/v1/rooms/{room.id}/closures",
            data=big,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"},
        )
        assert_error(response, 413, "too_large")
        assert count(Closure) == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/bookings/{}", "/api/v1/rooms/{}/availability", "/api/v1/users/{}", "/rooms/{}/schedule"]
)
@pytest.mark.parametrize("number", [2**31, 2**63, 2**64 + 1, 10**30])
def test_an_id_beyond_the_database_integers_is_a_400_naming_it(api_as, room_admin, path, number):
    _room, _workstation, admin = room_admin
    response = api_as(admin).get(path.format(number), headers={"Accept": "application/json"})
    error = assert_error(response, 400, "invalid_parameter")
    assert error["field"].endswith("_id")


def test_a_wrong_method_is_a_405_with_allow(api_as, room_admin):
    _room, _workstation, admin = room_admin
    response = api_as(admin).put("/api/v1/bookings", json={})
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_the_body_limit_comes_from_the_environment(monkeypatch):
    from config import Config

    monkeypatch.setenv("PORTAL_MAX_CONTENT_LENGTH", "2048")
    assert Config().MAX_CONTENT_LENGTH == 2048
    monkeypatch.delenv("PORTAL_MAX_CONTENT_LENGTH")
    assert Config().MAX_CONTENT_LENGTH == 1024 * 1024
