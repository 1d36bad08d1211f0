"""GET /api/v1/rooms/{id}/availability: the spec's shape, what is busy and free, and cache exactness."""

import uuid
from datetime import time, timedelta

import pytest

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.db import utcnow
from portal.core.time import to_local
from portal.extensions import db
from portal.training.models import Course, TrainingSession
from tests.conftest import make_config


def availability(api, room, day_offset=1, days=1):
    day = to_local(utcnow(), room.timezone).date() + timedelta(days=day_offset)
    return api.get(f"/api/v1/rooms/{room.id}/availability?date={day.isoformat()}&days={days}")


def spans(entries, kind=None):
    return [(e["start"][11:16], e["end"][11:16]) for e in entries if kind is None or e.get("kind") == kind]


def test_availability_has_the_specs_shape_and_every_kind_of_busy(api_as, doctor, room, workstations, at):
    course = Course(clinic_id=room.clinic_id, title="Поиск в PubMed", academic_hours=1)
    db.session.add_all(
        [
            Booking(
                user_id=doctor.id,
                workstation_id=workstations[0].id,
                room_id=room.id,
                start_at=at(1, "10:00"),
                end_at=at(1, "11:00"),
            ),
            Closure(room=room, start_at=at(1, "13:00"), end_at=at(1, "13:40"), reason="Уборка"),
            TrainingSession(
                course=course, room=room, start_at=at(1, "16:00"), end_at=at(1, "17:00"), capacity=8, whole_room=True
            ),
        ]
    )
    workstations[2].status = "out_of_service"
    db.session.commit()
    response = availability(api_as(doctor), room)
    assert response.status_code == 200
    body = response.get_json()
    assert body["room"] == {"id": room.id, "name": room.name, "timezone": "Europe/Moscow", "clinic_id": room.clinic_id}
    assert body["slot_minutes"] == 15
    first, _second, broken = body["workstations"]
    assert (first["label"], first["status"], broken["status"]) == ("ПК-1", "active", "out_of_service")
    assert spans(first["busy"], "closed") == [("00:00", "08:00"), ("20:00", "00:00")]
    assert spans(first["busy"], "booking") == [("10:00", "11:00")]
    assert spans(first["busy"], "closure") == [("13:00", "13:40")]
    assert spans(first["busy"], "training") == [("16:00", "17:00")]
    # Free time snaps to the grid around the 13:00–13:40 closure.
    assert spans(first["free"]) == [("08:00", "10:00"), ("11:00", "13:00"), ("13:45", "16:00"), ("17:00", "20:00")]
    assert broken["free"] == []
    assert body["sessions"][0]["whole_room"] is True and body["sessions"][0]["title"] == "Поиск в PubMed"
    assert all(entry["start"].endswith("+03:00") for entry in first["busy"] + first["free"])
    assert "user" not in str(body)  # doctors see others' bookings only as busy


def test_free_time_today_starts_at_the_next_grid_line(api_as, doctor, make_room, make_workstation, time_machine):
    room = make_room(clinic=doctor.clinic, hours=((time(0), time(23, 59)),))
    make_workstation(room=room)
    # 12:07 in Moscow tomorrow: the first free time is the next grid line, 12:15.
    time_machine.move_to(utcnow().replace(hour=9, minute=7, second=0, microsecond=0) + timedelta(days=1), tick=False)
    free = availability(api_as(doctor), room, day_offset=0).get_json()["workstations"][0]["free"]
    assert [(entry["start"][11:16], entry["end"][11:16]) for entry in free] == [("12:15", "23:45")]


def test_free_time_ends_at_the_booking_horizon(api_as, doctor, room, workstations):
    body = availability(api_as(doctor), room, day_offset=13, days=3).get_json()
    horizon = utcnow() + timedelta(days=room.horizon_days)
    last_end = max(entry["end"] for entry in body["workstations"][0]["free"])
    from portal.core.time import parse_iso

    assert parse_iso(last_end) <= horizon


def test_another_clinics_room_is_a_404_and_bad_parameters_are_400(api_as, make_user, doctor, room):
    assert availability(api_as(make_user("doctor")), room).status_code == 404
    api = api_as(doctor)
    assert api.get(f"/api/v1/rooms/{room.id}/availability?date=2026-13-01").get_json()["error"]["field"] == "date"
    assert api.get(f"/api/v1/rooms/{room.id}/availability?days=0").status_code == 400
    assert api.get("/api/v1/rooms/999999/availability").status_code == 404


def test_the_openapi_document_describes_the_booking_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, method in [
        ("/rooms/{room_id}/availability", "get"),
        ("/bookings", "get"),
        ("/bookings", "post"),
        ("/bookings/{booking_id}", "delete"),
        ("/bookings/{booking_id}/check-in", "post"),
    ]:
        assert method in document["paths"][path]
    from openapi_spec_validator import validate

    validate(document)


@pytest.fixture
def config_overrides(request):
    if "redis_url" not in request.fixturenames:
        return {}
    url = request.getfixturevalue("redis_url")
    # A prefix of its own: other test runs share this Redis and reuse room ids.
    return {"REDIS_URL": url, "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex}:"}


def test_cached_availability_follows_every_change_from_any_process(
    redis_url, app, api_as, doctor, room, workstations, at, database_url
):
    api = api_as(doctor)
    assert spans(availability(api, room).get_json()["workstations"][0]["busy"], "booking") == []
    # A booking through the API.
    assert (
        api.post(
            "/api/v1/bookings",
            json={
                "workstation_id": workstations[0].id,
                "start": at(1, "10:00").isoformat(),
                "end": at(1, "11:00").isoformat(),
            },
        ).status_code
        == 201
    )
    assert spans(availability(api, room).get_json()["workstations"][0]["busy"], "booking") == [("10:00", "11:00")]
    # A closure written by "another process": a second app on the same database and Redis.
    from portal import create_app

    other = create_app(make_config(database_url, REDIS_URL=redis_url, CACHE_KEY_PREFIX=app.config["CACHE_KEY_PREFIX"]))
    closure = {"room_id": room.id, "start_at": at(1, "15:00"), "end_at": at(1, "16:00"), "reason": "Проверка"}
    db.session.commit()  # SQLite: release the test's write lock before the other app writes
    with other.app_context():
        db.session.add(Closure(**closure))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # its pooled connections must not outlive the test
    assert spans(availability(api, room).get_json()["workstations"][0]["busy"], "closure") == [("15:00", "16:00")]
    # A workstation taken out of service.
    workstations[0].status = "out_of_service"
    db.session.commit()
    assert availability(api, room).get_json()["workstations"][0]["free"] == []
