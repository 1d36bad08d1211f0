"""Opening hours, closures, public holidays and the booking policy: validation and what is saved."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from portal.clinics import timetable
from portal.clinics.models import Closure, OpeningHours
from portal.extensions import db

NEXT_YEAR = datetime.now(UTC).year + 1


@pytest.fixture
def admin_room(make_room, make_user):
    room = make_room(hours=((time(8), time(20)),))
    return make_user(role="admin", clinic=room.clinic), room


def _hours(room):
    db.session.expire_all()
    return [
        (h.weekday, h.opens, h.closes)
        for h in db.session.scalars(
            select(OpeningHours)
            .where(OpeningHours.room_id == room.id)
            .order_by(OpeningHours.weekday, OpeningHours.opens)
        )
    ]


def test_weekly_hours_with_several_intervals_a_day_are_saved(api_as, admin_room):
    admin, room = admin_room
    response = api_as(admin).put(
        f"/api/v1/rooms/{room.id}/hours",
        json={
            "hours": [
                {"weekday": 0, "open": "14:00", "close": "20:00"},
                {"weekday": 0, "open": "08:00", "close": "13:00"},
                {"weekday": 5, "open": "09:00", "close": "15:00"},
            ]
        },
    )
    assert response.status_code == 200
    assert response.get_json()["hours"] == [
        {"weekday": 0, "open": "08:00", "close": "13:00"},
        {"weekday": 0, "open": "14:00", "close": "20:00"},
        {"weekday": 5, "open": "09:00", "close": "15:00"},
    ]
    assert _hours(room) == [(0, time(8), time(13)), (0, time(14), time(20)), (5, time(9), time(15))]


@pytest.mark.parametrize(
    "hours, code",
    [
        ([{"weekday": 1, "open": "18:00", "close": "09:00"}], "closes_before_opens"),
        ([{"weekday": 1, "open": "09:00", "close": "09:00"}], "closes_before_opens"),
        (
            [{"weekday": 2, "open": "08:00", "close": "13:00"}, {"weekday": 2, "open": "12:00", "close": "20:00"}],
            "hours_overlap",
        ),
        ([{"weekday": 7, "open": "08:00", "close": "13:00"}], "invalid_weekday"),
        ([{"weekday": 1, "open": "8 утра", "close": "13:00"}], "invalid_time"),
    ],
)
def test_invalid_hours_are_refused_and_nothing_is_saved(api_as, admin_room, hours, code):
    admin, room = admin_room
    before = _hours(room)
    response = api_as(admin).put(
        f"/api/v1/rooms/{room.id}/hours", json={"hours": [{"weekday": 0, "open": "09:00", "close": "18:00"}, *hours]}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert _hours(room) == before


def test_the_hours_form_shows_the_error_on_the_weekday_line(auth, client, admin_room):
    admin, room = admin_room
    auth.login(admin)
    before = _hours(room)
    response = client.post(
        f"/admin/rooms/{room.id}/schedule",
        data={"csrf_token": auth.csrf_token(), "day_0": "08:00-20:00", "day_2": "08:00-13:00, 12:30-18:00"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # The message sits right under Wednesday's input.
    wednesday = page.index('id="day_2"')
    assert "перекрываются" in page[wednesday : wednesday + 600]
    assert _hours(room) == before


def test_closure_must_end_after_it_starts(api_as, admin_room):
    admin, room = admin_room
    response = api_as(admin).post(
        f"/api/v1/rooms/{room.id}/closures",
        json={
            "start": f"{NEXT_YEAR}-02-01T12:00:00+03:00",
            "end": f"{NEXT_YEAR}-02-01T09:00:00+03:00",
            "reason": "ремонт",
        },
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "end_before_start",
        "field": "end",
        "message": "Закрытие должно заканчиваться позже, чем начинается.",
    }
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_closure_is_kept_in_utc_and_answered_in_the_clinics_zone(api_as, admin_room):
    admin, room = admin_room
    response = api_as(admin).post(
        f"/api/v1/rooms/{room.id}/closures",
        json={"start": f"{NEXT_YEAR}-02-01T09:00:00+03:00", "end": f"{NEXT_YEAR}-02-01T09:00:00Z", "reason": "ремонт"},
    )
    assert response.status_code == 201
    assert response.get_json()["start"] == f"{NEXT_YEAR}-02-01T09:00:00+03:00"
    assert response.get_json()["end"] == f"{NEXT_YEAR}-02-01T12:00:00+03:00"
    closure = db.session.get(Closure, response.get_json()["id"])
    assert closure.start_at == datetime(NEXT_YEAR, 2, 1, 6, tzinfo=UTC)


def test_the_closure_form_refuses_an_end_before_the_start(auth, client, admin_room):
    admin, room = admin_room
    auth.login(admin)
    response = client.post(
        f"/admin/rooms/{room.id}/closures",
        data={
            "csrf_token": auth.csrf_token(),
            "start": f"{NEXT_YEAR}-02-01T12:00",
            "end": f"{NEXT_YEAR}-02-01T09:00",
            "reason": "ремонт",
        },
    )
    assert response.status_code == 400
    assert "Закрытие должно заканчиваться позже, чем начинается." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_russian_public_holidays_are_entered_in_one_step_and_only_once(api_as, admin_room):
    admin, room = admin_room
    api = api_as(admin)
    response = api.post(f"/api/v1/rooms/{room.id}/closures/public-holidays", json={"year": NEXT_YEAR})
    assert response.status_code == 201
    closures = response.get_json()["items"]
    # New Year's break is one closure starting on 1 January at local midnight; Victory Day is there.
    assert closures[0]["start"] == f"{NEXT_YEAR}-01-01T00:00:00+03:00"
    assert closures[0]["end"][:10] >= f"{NEXT_YEAR}-01-08"
    for holiday in (f"{NEXT_YEAR}-05-09", f"{NEXT_YEAR}-06-12", f"{NEXT_YEAR}-11-04"):
        assert any(closure["start"][:10] <= holiday < closure["end"][:10] for closure in closures), holiday
    again = api.post(f"/api/v1/rooms/{room.id}/closures/public-holidays", json={"year": NEXT_YEAR})
    assert again.status_code == 201 and again.get_json()["items"] == []
    assert db.session.scalar(select(func.count()).select_from(Closure)) == len(closures)


def test_policy_changes_are_checked_against_each_other(api_as, admin_room):
    admin, room = admin_room
    api = api_as(admin)
    refused = api.patch(f"/api/v1/rooms/{room.id}/policy", json={"min_minutes": 120, "max_minutes": 60})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "min_minutes"
    off_grid = api.patch(f"/api/v1/rooms/{room.id}/policy", json={"slot_minutes": 30, "min_minutes": 45})
    assert off_grid.status_code == 400 and off_grid.get_json()["error"]["code"] == "invalid_policy"
    accepted = api.patch(
        f"/api/v1/rooms/{room.id}/policy", json={"slot_minutes": 30, "min_minutes": 30, "horizon_days": 21}
    )
    assert accepted.status_code == 200
    assert accepted.get_json() == {
        "slot_minutes": 30,
        "min_minutes": 30,
        "max_minutes": 240,
        "horizon_days": 21,
        "max_active": 3,
        "max_daily_minutes": 240,
        "checkin_grace_minutes": 15,
    }


def test_a_new_room_gets_the_spec_default_policy(api_as, make_clinic, make_user):
    clinic = make_clinic()
    admin = make_user(role="admin", clinic=clinic)
    response = api_as(admin).post(f"/api/v1/clinics/{clinic.id}/rooms", json={"name": "Кабинет", "capacity": 10})
    assert response.status_code == 201
    assert response.get_json()["policy"] == {
        "slot_minutes": 15,
        "min_minutes": 15,
        "max_minutes": 240,
        "horizon_days": 14,
        "max_active": 3,
        "max_daily_minutes": 240,
        "checkin_grace_minutes": 15,
    }


def test_open_intervals_leave_out_closures(admin_room):
    from portal.clinics.schedule import minutes, open_intervals

    admin, room = admin_room
    day = date(NEXT_YEAR, 3, 2)
    timetable.add_closure(
        admin,
        room,
        start=datetime(NEXT_YEAR, 3, 2, 9, tzinfo=UTC),
        end=datetime(NEXT_YEAR, 3, 2, 10, tzinfo=UTC),
        reason="уборка",
        now=datetime.now(UTC),
    )
    # 08:00–20:00 Moscow is 05:00–17:00 UTC; one hour closed leaves eleven.
    assert minutes(open_intervals(room, day, day)) == 11 * 60
