"""Booking fixtures: a room with workstations, its doctors, and local-time helpers."""

from datetime import datetime, time, timedelta

import pytest

from portal.core.db import utcnow
from portal.core.time import local_to_utc, to_local


@pytest.fixture
def room(make_room):
    return make_room()


@pytest.fixture
def workstations(room, make_workstation):
    return [make_workstation(room=room, label=f"ПК-{n}") for n in range(1, 4)]


@pytest.fixture
def doctor(room, make_user):
    return make_user("doctor", clinic=room.clinic, full_name="Мария Ивановна Петрова")


@pytest.fixture
def admin(room, make_user):
    return make_user("admin", clinic=room.clinic, full_name="Анна Сергеевна Админова")


@pytest.fixture
def at(room):
    """at(days_ahead, "10:00") → the aware UTC time of that local wall-clock time in the room's clinic."""

    def make(days_ahead, hhmm):
        day = to_local(utcnow(), room.timezone).date() + timedelta(days=days_ahead)
        return local_to_utc(datetime.combine(day, time.fromisoformat(hhmm)), room.timezone)

    return make
