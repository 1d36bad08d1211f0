"""Availability and the schedule grid are kept per process (and in Redis) under the room's version: a change
committed by another process shows in the very next answer of every process, with and without Redis."""

import os
import re
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from portal.auth import services as auth_services
from portal.booking import changes, creating
from portal.booking.cache import room_version
from portal.booking.models import Booking
from portal.clinics import timetable
from portal.core.db import utcnow
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_token_from, gunicorn_servers


@pytest.fixture(params=["without Redis", "with Redis"])
def servers(request, database_url, app):
    """Two gunicorn servers of one worker each: two processes, each asked in turn."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORTAL_ENV": "development",
        "SECRET_KEY": "kept-answers",
        "PORTAL_LOG_REQUESTS": "0",
        "PORTAL_CACHE_PREFIX": f"test-{uuid.uuid4().hex}:",
    }
    env.pop("REDIS_URL", None)
    if request.param == "with Redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    db.session.commit()
    with gunicorn_servers(env, workers=1) as base_urls:
        yield base_urls


@pytest.fixture
def world(make_room, make_workstation, make_user):
    room = make_room(capacity=12)
    workstation = make_workstation(room=room, label="ПК-1")
    viewer = make_user("doctor", clinic=room.clinic, full_name="Смотрящий Врач")
    other = make_user("doctor", clinic=room.clinic, full_name="Другой Врач")
    admin = make_user("admin", clinic=room.clinic)
    trainer = make_user("trainer", clinic=room.clinic)
    _token, raw = auth_services.issue_token(viewer, "test")
    db.session.commit()
    tomorrow = to_local(utcnow(), room.timezone).date() + timedelta(days=1)
    # Plain values for while the servers answer: an expired object would open a transaction to reload
    # itself, and on SQLite hold the write lock the servers need.
    values = {
        "room": room,
        "workstation": workstation,
        "other": other,
        "admin": admin,
        "trainer": trainer,
        "room_id": room.id,
        "viewer_email": viewer.email,
        "token": raw,
        "tomorrow": tomorrow,
    }
    db.session.commit()
    return values


def _at(world, hour):
    return local_to_utc(datetime.combine(world["tomorrow"], time(hour)), world["room"].timezone)


def _book(world):
    return creating.create_booking(
        world["other"], workstation=world["workstation"], start=_at(world, 10), end=_at(world, 11), now=utcnow()
    )


def _cancel(world):
    booking = db.session.scalars(select(Booking)).one()
    changes.cancel_booking(world["other"], booking, now=utcnow())


def _close(world):
    timetable.add_closure(
        world["admin"], world["room"], start=_at(world, 10), end=_at(world, 11), reason="Санобработка", now=utcnow()
    )


def _shorten_hours(world):
    timetable.set_opening_hours(world["admin"], world["room"], [(day, time(8), time(12)) for day in range(7)])


def _train_in_the_whole_room(world):
    from portal.training import scheduling
    from portal.training.models import Course

    course = Course(
        clinic_id=world["room"].clinic_id,
        title="Сердечно-лёгочная реанимация",
        description="",
        trainer_id=world["trainer"].id,
        academic_hours=Decimal("1"),
    )
    db.session.add(course)
    db.session.flush()
    scheduling.schedule_session(
        world["trainer"],
        course=course,
        room=world["room"],
        start=_at(world, 10),
        end=_at(world, 11),
        capacity=5,
        whole_room=True,
        now=utcnow(),
    )


def _booked(answer):
    return [b for w in answer["workstations"] for b in w["busy"] if b["kind"] == "booking"]


def _closes_at(answer):
    return {span["end"][11:16] for span in answer["opening_hours"]}


# (what changes, what a fresh answer shows before, the change, what it shows after): (availability, week page)
CHANGES = {
    "a booking": (None, _book, lambda a, page: len(_booked(a)) == 1 and page.count('<td class="busy"') == 1),
    "a cancellation": (_book, _cancel, lambda a, page: not _booked(a) and '<td class="busy"' not in page),
    "a closure": (None, _close, lambda a, page: len(a["closures"]) == 1 and '<td class="closure"' in page),
    "an opening-hours change": (
        None,
        _shorten_hours,
        lambda a, page: _closes_at(a) == {"12:00"} and "19:00" not in page,
    ),
    "a whole-room session": (
        None,
        _train_in_the_whole_room,
        lambda a, page: [s["whole_room"] for s in a["sessions"]] == [True] and '<td class="training"' in page,
    ),
}


def _sign_in(base_url, email):
    browser = requests.Session()
    token = csrf_token_from(browser.get(base_url + "/sign-in", timeout=30).text)
    answer = browser.post(
        base_url + "/sign-in",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302
    return browser


def _answers(servers, browsers, world):
    """Each process's availability (one day and seven) and week page, twice: the second from what it keeps."""
    room_id, day = world["room_id"], world["tomorrow"].isoformat()
    bearer = {"Authorization": f"Bearer {world['token']}"}
    seen = []
    for base_url, browser in zip(servers, browsers, strict=True):
        for _twice in range(2):
            for days in (1, 7):
                answer = requests.get(
                    f"{base_url}/api/v1/rooms/{room_id}/availability?date={day}&days={days}", headers=bearer, timeout=30
                )
                assert answer.status_code == 200
                page = browser.get(f"{base_url}/rooms/{room_id}/schedule?view=week&date={day}", timeout=30)
                assert page.status_code == 200
                grid = page.text[page.text.index('id="schedule"') : page.text.index("</table>")]
                seen.append((answer.json(), re.sub(r"\s+", " ", grid)))
    return seen


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_committed_by_another_process_shows_in_every_process_next_answer(servers, world, change):
    prepare, make_change, shows = CHANGES[change]
    if prepare is not None:
        prepare(world)
        db.session.commit()
    browsers = [_sign_in(base_url, world["viewer_email"]) for base_url in servers]
    before = _answers(servers, browsers, world)
    version_before = room_version(world["room_id"])

    make_change(world)
    db.session.commit()
    after = _answers(servers, browsers, world)

    assert not any(shows(answer, page) for answer, page in before)
    assert all(shows(answer, page) for answer, page in after)
    assert room_version(world["room_id"]) != version_before


def test_the_version_is_raised_once_with_the_commit_and_not_by_a_rolled_back_change(world):
    version = room_version(world["room_id"])
    _book(world)  # its insert runs in a SAVEPOINT, released here
    inside = room_version(world["room_id"])
    db.session.rollback()
    after_rollback = room_version(world["room_id"])
    _book(world)
    db.session.commit()
    after_commit = room_version(world["room_id"])

    assert (inside, after_rollback) == (version, version)
    assert after_commit == version + 1
