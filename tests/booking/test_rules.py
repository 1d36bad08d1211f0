"""Booking rules 1–6 through the API: each violation is refused with its own code and a clear message."""

import pytest
from sqlalchemy import select

from portal.booking.models import Booking
from portal.clinics.models import Closure
from portal.core.models import AuditEntry, Notification
from portal.extensions import db
from portal.training.models import Course, TrainingSession


def post_booking(api, workstation, start, end, **extra):
    return api.post(
        "/api/v1/bookings",
        json={"workstation_id": workstation.id, "start": start.isoformat(), "end": end.isoformat(), **extra},
    )


def test_a_free_slot_is_booked_with_201_in_the_clinics_time_zone(api_as, doctor, workstations, at):
    response = post_booking(api_as(doctor), workstations[0], at(1, "10:00"), at(1, "11:00"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "booked" and body["workstation_id"] == workstations[0].id
    assert body["start"].endswith("T10:00:00+03:00") and body["end"].endswith("T11:00:00+03:00")
    assert response.headers["Location"].endswith(f"/api/v1/bookings/{body['id']}")
    note = db.session.scalar(select(Notification).where(Notification.user_id == doctor.id))
    assert note.kind == "booking_confirmed" and "ПК-1" in note.subject
    assert (
        db.session.scalar(
            select(AuditEntry.action).where(AuditEntry.object_type == "bookings", AuditEntry.object_id == body["id"])
        )
        == "booking_created"
    )


def _setup_nothing(**kwargs):
    pass


def _room_min_30(room, **kwargs):
    room.min_minutes = 30
    db.session.commit()


def _closure(room, at, **kwargs):
    db.session.add(Closure(room=room, start_at=at(1, "10:30"), end_at=at(1, "12:00"), reason="Ремонт"))
    db.session.commit()


def _out_of_service(workstations, **kwargs):
    workstations[0].status = "out_of_service"
    db.session.commit()


def _whole_room_training(room, at, **kwargs):
    course = Course(clinic_id=room.clinic_id, title="Доказательная медицина", academic_hours=2)
    db.session.add(
        TrainingSession(
            course=course, room=room, start_at=at(1, "10:30"), end_at=at(1, "12:00"), capacity=10, whole_room=True
        )
    )
    db.session.commit()


def _seat_only_training(room, at, **kwargs):
    course = Course(clinic_id=room.clinic_id, title="Разбор случаев", academic_hours=1)
    db.session.add(
        TrainingSession(
            course=course, room=room, start_at=at(1, "10:00"), end_at=at(1, "11:00"), capacity=4, whole_room=False
        )
    )
    db.session.commit()


def _other_doctor_booked(make_user, room, workstations, at, **kwargs):
    other = make_user("doctor", clinic=room.clinic)
    db.session.add(
        Booking(
            user_id=other.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "10:30"),
            end_at=at(1, "11:30"),
            status="booked",
        )
    )
    db.session.commit()


def _own_booking_elsewhere(doctor, room, workstations, at, **kwargs):
    db.session.add(
        Booking(
            user_id=doctor.id,
            workstation_id=workstations[1].id,
            room_id=room.id,
            start_at=at(1, "10:30"),
            end_at=at(1, "11:30"),
            status="booked",
        )
    )
    db.session.commit()


def _three_upcoming(doctor, room, workstations, at, **kwargs):
    for day in (2, 3, 4):
        db.session.add(
            Booking(
                user_id=doctor.id,
                workstation_id=workstations[1].id,
                room_id=room.id,
                start_at=at(day, "10:00"),
                end_at=at(day, "11:00"),
                status="booked",
            )
        )
    db.session.commit()


def _four_hours_that_day(doctor, room, workstations, at, **kwargs):
    room.max_active = 5
    db.session.add(
        Booking(
            user_id=doctor.id,
            workstation_id=workstations[1].id,
            room_id=room.id,
            start_at=at(1, "13:00"),
            end_at=at(1, "16:15"),
            status="completed",
        )
    )
    db.session.commit()


# (case, set-up, start, end, status, code)
CASES = [
    ("off the grid", _setup_nothing, (1, "10:05"), (1, "11:00"), 409, "off_grid"),
    ("too short", _room_min_30, (1, "10:00"), (1, "10:15"), 409, "too_short"),
    ("too long", _setup_nothing, (1, "09:00"), (1, "13:15"), 409, "too_long"),
    ("in the past", _setup_nothing, (-1, "10:00"), (-1, "11:00"), 409, "in_past"),
    ("beyond the horizon", _setup_nothing, (15, "10:00"), (15, "11:00"), 409, "beyond_horizon"),
    ("before opening", _setup_nothing, (1, "07:30"), (1, "08:30"), 409, "outside_hours"),
    ("after closing", _setup_nothing, (1, "19:30"), (1, "20:30"), 409, "outside_hours"),
    ("during a closure", _closure, (1, "10:00"), (1, "11:00"), 409, "closed"),
    ("workstation out of service", _out_of_service, (1, "10:00"), (1, "11:00"), 409, "workstation_unavailable"),
    ("whole-room training", _whole_room_training, (1, "10:00"), (1, "11:00"), 409, "training_in_room"),
    ("slot taken", _other_doctor_booked, (1, "10:00"), (1, "11:00"), 409, "slot_taken"),
    ("own booking elsewhere", _own_booking_elsewhere, (1, "10:00"), (1, "11:00"), 409, "overlaps_own_booking"),
    ("too many upcoming", _three_upcoming, (1, "10:00"), (1, "11:00"), 409, "quota_exceeded"),
    ("too many minutes a day", _four_hours_that_day, (1, "10:00"), (1, "11:00"), 409, "quota_exceeded"),
    ("seat-only training leaves workstations free", _seat_only_training, (1, "10:00"), (1, "11:00"), 201, None),
]


@pytest.mark.parametrize("case, setup, start, end, status, code", CASES, ids=[c[0] for c in CASES])
def test_each_rule_refuses_with_its_code_and_a_message(
    case, setup, start, end, status, code, api_as, doctor, room, workstations, at, make_user
):
    setup(room=room, at=at, workstations=workstations, doctor=doctor, make_user=make_user)
    response = post_booking(api_as(doctor), workstations[0], at(*start), at(*end))
    assert response.status_code == status, response.get_json()
    if code is None:
        return
    error = response.get_json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 10
    mine = db.session.scalars(select(Booking).where(Booking.user_id == doctor.id, Booking.start_at == at(*start))).all()
    assert mine == []
    refused = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "booking_refused")).all()
    assert [entry.details["code"] for entry in refused] == [code]
    assert refused[0].clinic_id == room.clinic_id


def test_a_taken_slot_offers_another_workstation_and_the_next_free_time(
    api_as, doctor, room, workstations, at, make_user
):
    _other_doctor_booked(make_user=make_user, room=room, workstations=workstations, at=at)
    workstations[1].status = "retired"
    db.session.commit()
    error = post_booking(api_as(doctor), workstations[0], at(1, "10:00"), at(1, "11:00")).get_json()["error"]
    assert error["code"] == "slot_taken" and error["field"] == "workstation_id"
    suggested = [(a["workstation_label"], a["start"][11:16], a["end"][11:16]) for a in error["alternatives"]]
    assert suggested == [("ПК-3", "10:00", "11:00"), ("ПК-1", "11:30", "12:30")]


def test_the_daily_quota_suggests_the_minutes_that_are_left(api_as, doctor, room, workstations, at):
    _four_hours_that_day(doctor=doctor, room=room, workstations=workstations, at=at)
    error = post_booking(api_as(doctor), workstations[0], at(1, "10:00"), at(1, "11:00")).get_json()["error"]
    assert error["quota"] == "max_daily_minutes"
    assert [(a["start"][11:16], a["end"][11:16]) for a in error["alternatives"]] == [("10:00", "10:45")]


def test_another_clinics_workstation_is_refused_as_not_your_clinic(api_as, make_user, workstations, at):
    stranger = make_user("doctor")
    response = post_booking(api_as(stranger), workstations[0], at(1, "10:00"), at(1, "11:00"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_your_clinic"
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "booking_refused")) == {
        "code": "not_your_clinic",
        "workstation_id": workstations[0].id,
        "start": at(1, "10:00").isoformat(),
        "end": at(1, "11:00").isoformat(),
    }


def test_an_admin_books_for_a_doctor_of_the_clinic_but_not_for_themselves(api_as, admin, doctor, workstations, at):
    api = api_as(admin)
    own = post_booking(api, workstations[0], at(1, "10:00"), at(1, "11:00"))
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "not_a_doctor"
    for_doctor = post_booking(api, workstations[0], at(1, "10:00"), at(1, "11:00"), user_id=doctor.id)
    assert for_doctor.status_code == 201
    assert for_doctor.get_json()["user"] == {"id": doctor.id, "name": doctor.full_name}


def test_a_doctor_cannot_book_for_a_colleague(api_as, doctor, make_user, room, workstations, at):
    colleague = make_user("doctor", clinic=room.clinic)
    response = post_booking(api_as(doctor), workstations[0], at(1, "10:00"), at(1, "11:00"), user_id=colleague.id)
    assert response.status_code == 403
    assert db.session.scalar(select(Booking.id)) is None


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"start": "2030-01-01T10:00:00", "end": "2030-01-01T11:00:00+03:00"}, "start"),
        ({"start": "tomorrow", "end": "2030-01-01T11:00:00+03:00"}, "start"),
        ({"start": "2030-01-01T10:00:00+03:00"}, "end"),
        ({"start": "2030-01-01T11:00:00+03:00", "end": "2030-01-01T10:00:00+03:00"}, "end"),
    ],
)
def test_malformed_times_are_a_400_naming_the_field(payload, field, api_as, doctor, workstations):
    response = api_as(doctor).post("/api/v1/bookings", json={"workstation_id": workstations[0].id, **payload})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_an_unknown_workstation_is_a_404(api_as, doctor, workstations):
    response = api_as(doctor).post(
        "/api/v1/bookings",
        json={"workstation_id": 999999, "start": "2030-01-01T10:00:00+03:00", "end": "2030-01-01T11:00:00+03:00"},
    )
    assert response.status_code == 404


def test_the_database_itself_refuses_overlaps_per_workstation_and_per_doctor(doctor, make_user, room, workstations, at):
    from sqlalchemy.exc import IntegrityError

    other = make_user("doctor", clinic=room.clinic)
    db.session.add(
        Booking(
            user_id=doctor.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "10:00"),
            end_at=at(1, "11:00"),
        )
    )
    db.session.commit()
    clashes = [
        Booking(
            user_id=other.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "10:45"),
            end_at=at(1, "11:15"),
        ),
        Booking(
            user_id=doctor.id,
            workstation_id=workstations[1].id,
            room_id=room.id,
            start_at=at(1, "09:30"),
            end_at=at(1, "10:15"),
        ),
    ]
    for clash, constraint in zip(clashes, ("ex_bookings_workstation_overlap", "ex_bookings_user_overlap"), strict=True):
        db.session.add(clash)
        with pytest.raises(IntegrityError, match=constraint):
            db.session.commit()
        db.session.rollback()
    # Touching ends are not an overlap, and cancelled bookings do not count.
    db.session.add(
        Booking(
            user_id=other.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "11:00"),
            end_at=at(1, "12:00"),
        )
    )
    db.session.add(
        Booking(
            user_id=other.id,
            workstation_id=workstations[0].id,
            room_id=room.id,
            start_at=at(1, "10:00"),
            end_at=at(1, "11:00"),
            status="cancelled",
        )
    )
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Booking)) == 3


def test_the_booking_list_shows_own_bookings_and_whole_rooms_only_to_their_admins(
    api_as, admin, doctor, make_user, room, workstations, at
):
    colleague = make_user("doctor", clinic=room.clinic)
    for owner, ws in ((doctor, workstations[0]), (colleague, workstations[1])):
        db.session.add(
            Booking(
                user_id=owner.id, workstation_id=ws.id, room_id=room.id, start_at=at(1, "10:00"), end_at=at(1, "11:00")
            )
        )
    db.session.commit()
    mine = api_as(doctor).get("/api/v1/bookings").get_json()["items"]
    assert [b["user_id"] for b in mine] == [doctor.id]
    assert api_as(doctor).get(f"/api/v1/bookings?room_id={room.id}").status_code == 403
    assert api_as(make_user("admin")).get(f"/api/v1/bookings?room_id={room.id}").status_code == 404
    everything = api_as(admin).get(f"/api/v1/bookings?room_id={room.id}&status=booked").get_json()["items"]
    assert sorted(b["user"]["name"] for b in everything) == sorted([doctor.full_name, colleague.full_name])
