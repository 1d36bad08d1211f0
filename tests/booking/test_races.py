"""Races on real commits: many threads, and two separate server processes, book at the same moment.

The database's constraints decide; the checks before the insert only make the
common case fast. The variants without those checks show the database alone
is enough.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from portal.auth.models import ApiToken, User
from portal.booking.models import Booking
from portal.extensions import db
from tests.conftest import gunicorn_servers

pytestmark = pytest.mark.slow


def quick_doctors(clinic, count):
    """Doctors with API tokens, without the cost of hashing a password for each."""
    doctors = []
    for number in range(count):
        user = User(email=f"racer{number}@example.org", full_name=f"Racer {number}", clinic=clinic, password_hash="!")
        user.set_roles(["doctor"])
        db.session.add(user)
        doctors.append(user)
    tokens = [ApiToken.issue(user, "race")[1] for user in doctors]
    db.session.commit()
    return doctors, tokens


def race(app, requests_to_send):
    """Send every (path, json, token) at once, each from its own thread with its own app context."""
    db.session.commit()  # SQLite: the test's own open transaction would hold the write lock
    barrier = threading.Barrier(len(requests_to_send))

    def send(item):
        path, body, token = item
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            return response.status_code, (response.get_json().get("error") or {}).get("code")

    with ThreadPoolExecutor(max_workers=len(requests_to_send)) as pool:
        return list(pool.map(send, requests_to_send))


@pytest.fixture(params=["with checks", "database only"])
def checks(request, monkeypatch):
    if request.param == "database only":
        from portal.booking import creating
        from portal.booking.availability import RoomState

        monkeypatch.setattr(creating, "own_active_bookings", lambda *args, **kwargs: [])
        monkeypatch.setattr(RoomState, "bookings_of", lambda self, workstation_id: [])
    return request.param


def test_fifty_doctors_racing_for_one_slot_get_one_201_and_49_slot_taken(app, checks, room, workstations, at):
    doctors, tokens = quick_doctors(room.clinic, 50)
    body = {
        "workstation_id": workstations[0].id,
        "start": at(1, "10:00").isoformat(),
        "end": at(1, "11:00").isoformat(),
    }
    results = race(app, [("/api/v1/bookings", body, token) for token in tokens])
    assert sorted(results).count((201, None)) == 1
    assert results.count((409, "slot_taken")) == 49
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_one_doctor_racing_for_ten_workstations_at_once_gets_exactly_one(app, checks, room, make_workstation, at):
    workstations = [make_workstation(room=room) for _ in range(10)]
    (doctor,), (token,) = quick_doctors(room.clinic, 1)
    results = race(
        app,
        [
            (
                "/api/v1/bookings",
                {"workstation_id": ws.id, "start": at(1, "10:00").isoformat(), "end": at(1, "11:00").isoformat()},
                token,
            )
            for ws in workstations
        ],
    )
    assert results.count((201, None)) == 1
    assert results.count((409, "overlaps_own_booking")) == 9
    assert db.session.scalar(select(func.count()).select_from(Booking).where(Booking.user_id == doctor.id)) == 1


def test_one_doctor_racing_past_the_quota_stays_within_it(app, room, make_workstation, at):
    """Quota counts run under the doctor's row lock: five racing bookings on five days, quota 3."""
    workstation = make_workstation(room=room)
    (doctor,), (token,) = quick_doctors(room.clinic, 1)
    results = race(
        app,
        [
            (
                "/api/v1/bookings",
                {
                    "workstation_id": workstation.id,
                    "start": at(day, "10:00").isoformat(),
                    "end": at(day, "11:00").isoformat(),
                },
                token,
            )
            for day in range(1, 6)
        ],
    )
    assert results.count((201, None)) == 3
    assert results.count((409, "quota_exceeded")) == 2


@pytest.fixture
def two_servers(database_url, app):
    """Two gunicorn instances on two ports, both on the test database, like two machines behind a proxy."""
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORTAL_ENV": "development",
        "SECRET_KEY": "race-test",
        "PORTAL_LOG_REQUESTS": "0",
    }
    env.pop("REDIS_URL", None)
    with gunicorn_servers(env, workers=2) as base_urls:
        yield base_urls


def test_two_server_processes_racing_for_one_slot_book_it_once(room, workstations, at, two_servers):
    doctors, tokens = quick_doctors(room.clinic, 20)
    body = {
        "workstation_id": workstations[0].id,
        "start": at(1, "10:00").isoformat(),
        "end": at(1, "11:00").isoformat(),
    }
    barrier = threading.Barrier(len(tokens))

    def send(index):
        barrier.wait()
        response = requests.post(
            two_servers[index % 2] + "/api/v1/bookings",
            json=body,
            timeout=60,
            headers={"Authorization": f"Bearer {tokens[index]}"},
        )
        return response.status_code, (response.json().get("error") or {}).get("code")

    db.session.commit()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(send, range(len(tokens))))
    assert results.count((201, None)) == 1
    assert results.count((409, "slot_taken")) == 19
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_whole_room_training_and_bookings_racing_for_the_same_hour_never_both_stand(
    app, room, make_workstation, make_user, api_as, at
):
    """The training takes the room's lock exclusively, each booking shares it: whichever commits first
    wins the hour, and the other side sees it (training_in_room, or bookings_conflict)."""
    workstations = [make_workstation(room=room) for _ in range(8)]
    hours = (9, 11, 13, 15, 17)
    _doctors, tokens = quick_doctors(room.clinic, len(workstations) * len(hours))  # one booking each: no quota
    trainer_token = api_as(make_user("trainer", clinic=room.clinic)).token
    for round_number, hour in enumerate(hours):
        start, end = at(2, f"{hour:02d}:00"), at(2, f"{hour + 1:02d}:00")
        round_tokens = tokens[round_number * len(workstations) : (round_number + 1) * len(workstations)]
        bookings = [
            ("/api/v1/bookings", {"workstation_id": ws.id, "start": start.isoformat(), "end": end.isoformat()}, token)
            for ws, token in zip(workstations, round_tokens, strict=True)
        ]
        training = (
            "/api/v1/trainings",
            {
                "room_id": room.id,
                "course": {"title": f"Race {hour}", "academic_hours": 1},
                "start": start.isoformat(),
                "end": end.isoformat(),
                "capacity": 5,
                "whole_room": True,
            },
            trainer_token,
        )
        results = race(app, [*bookings[:4], training, *bookings[4:]])

        training_result, booking_results = results[4], results[:4] + results[5:]
        booked = booking_results.count((201, None))
        if training_result == (201, None):
            assert booked == 0 and set(booking_results) == {(409, "training_in_room")}
        else:
            assert training_result == (409, "bookings_conflict") and booked >= 1
        active = db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.room_id == room.id,
                Booking.status.in_(("booked", "checked_in")),
                Booking.start_at < end,
                Booking.end_at > start,
            )
        )
        assert active == booked
        db.session.commit()
