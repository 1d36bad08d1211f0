"""The schedule and availability only read: they answer while another connection holds a write
transaction open. On SQLite they start their transaction without taking the write lock, which
every other request takes at its start (so bookings stay exact); PostgreSQL never blocks readers."""

import pytest
from sqlalchemy import update

from portal.clinics.models import Room
from portal.extensions import db
from tests.conftest import csrf_token_from


@pytest.fixture
def config_overrides():
    return {"DB_STATEMENT_TIMEOUT_SECONDS": 1}


def test_the_schedule_and_availability_answer_while_a_writer_holds_the_database(
    client, auth, api_as, doctor, room, workstations
):
    auth.login(doctor)
    api = api_as(doctor)
    token = csrf_token_from(client.get(f"/rooms/{room.id}/book").get_data(as_text=True))
    room_id, labels = room.id, [workstation.label for workstation in workstations]
    db.session.commit()  # nothing of the test's own stays open

    with db.engine.connect() as writer:
        writer.execute(update(Room).where(Room.id == room_id).values(name=Room.name))
        week = client.get(f"/rooms/{room_id}/schedule")
        day = client.get(f"/rooms/{room_id}/schedule?view=day")
        availability = api.get(f"/api/v1/rooms/{room_id}/availability?days=7")
        writing = client.post(f"/rooms/{room_id}/book", data={"csrf_token": token})
        writer.rollback()

    assert (week.status_code, day.status_code, availability.status_code) == (200, 200, 200)
    assert all(label in week.get_data(as_text=True) for label in labels)
    assert len(availability.get_json()["workstations"]) == len(labels)
    if db.engine.dialect.name == "sqlite":
        assert writing.status_code == 503  # the lock held was real: a request that writes waits for it
