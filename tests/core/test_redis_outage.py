"""Redis is a cache and a counter store, never a single point of failure.

A private Redis server is started for these tests and paused (SIGSTOP) mid-run,
as a hung or partitioned Redis looks to the portal: connections open, nothing
answers. Signing in, availability, booking and cancelling go on; /healthz says
"degraded"; and once Redis answers again no answer cached before the outage is
served as current.
"""

import logging
import os
import shutil
import signal
import subprocess
import time
from datetime import datetime, timedelta
from datetime import time as clock

import pytest
import redis

from portal.core.db import utcnow
from portal.core.time import local_to_utc, to_local
from tests.conftest import PASSWORD, csrf_token_from, free_port, redis_config, require_part


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("the private Redis did not start")

    def pause(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self):
        self.resume()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def private_redis():
    require_part(shutil.which("redis-server"), "redis-server", "install Debian's redis-server package")
    server = PrivateRedis()
    yield server
    server.stop()


@pytest.fixture
def portal(make_app, private_redis):
    """A second app on the test database whose cache and limits live in the private Redis."""
    return make_app(**redis_config(private_redis.url), REDIS_RETRY_SECONDS=0).test_client()


def _availability(client, room, day, token):
    answer = client.get(
        f"/api/v1/rooms/{room.id}/availability?date={day}&days=1", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["workstations"][0]["busy"]


def test_booking_cancelling_and_signing_in_go_on_while_redis_hangs(
    portal, private_redis, make_user, api_as, make_workstation, caplog
):
    workstation = make_workstation()
    room = workstation.room
    doctor = make_user(clinic=room.clinic)
    token = api_as(doctor).token
    tomorrow = to_local(utcnow(), room.timezone).date() + timedelta(days=1)
    start, end = (local_to_utc(datetime.combine(tomorrow, clock(hour)), room.timezone) for hour in (10, 11))
    day = tomorrow.isoformat()
    before = [b for b in _availability(portal, room, day, token) if b["kind"] == "booking"]
    assert before == []

    private_redis.pause()
    with caplog.at_level(logging.ERROR, logger="portal.core.redis_client"):
        booked = portal.post(
            "/api/v1/bookings",
            headers={"Authorization": f"Bearer {token}"},
            json={"workstation_id": workstation.id, "start": start.isoformat(), "end": end.isoformat()},
        )
        during = [b for b in _availability(portal, room, day, token) if b["kind"] == "booking"]
        health = portal.get("/healthz")
        page = portal.get("/sign-in")
        signed_in = portal.post(
            "/sign-in",
            data={
                "csrf_token": csrf_token_from(page.get_data(as_text=True)),
                "email": doctor.email,
                "password": PASSWORD,
            },
        )
    private_redis.resume()
    after_booking = [b for b in _availability(portal, room, day, token) if b["kind"] == "booking"]
    cancelled = portal.delete(
        f"/api/v1/bookings/{booked.get_json()['id']}", headers={"Authorization": f"Bearer {token}"}
    )

    assert booked.status_code == 201
    assert len(during) == 1
    assert (health.status_code, health.get_json()) == (200, {"status": "degraded", "redis": "unreachable"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/dashboard")
    # The answer cached before the outage (no booking) is not served once Redis answers again.
    assert len(after_booking) == 1
    assert cancelled.status_code == 200
    assert portal.get("/healthz").get_json() == {"status": "ok"}
    assert len([r for r in caplog.records if "Redis is unreachable" in r.getMessage()]) == 1
