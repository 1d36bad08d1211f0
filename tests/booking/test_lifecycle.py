"""Check-in, cancelling, no-shows, reminders and moving bookings off a broken workstation (rules 7 and 8)."""

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select

from portal.auth.models import User
from portal.booking import changes, creating, jobs, queries
from portal.booking.models import Booking
from portal.clinics.models import Workstation
from portal.core.db import is_sqlite, utcnow
from portal.core.errors import Conflict, NotAllowed
from portal.core.models import AuditEntry, Notification
from portal.extensions import db


@pytest.fixture
def booking(doctor, room, workstations, at):
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
        status="booked",
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def kinds_for(user):
    return db.session.scalars(
        select(Notification.kind).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


@pytest.mark.parametrize("minutes_from_start, code", [(-11, "checkin_not_open"), (15, "checkin_closed")])
def test_check_in_outside_its_window_is_refused(minutes_from_start, code, doctor, booking):
    with pytest.raises(Conflict) as refused:
        changes.check_in(doctor, booking, now=booking.start_at + timedelta(minutes=minutes_from_start))
    assert refused.value.code == code


@pytest.mark.parametrize("minutes_from_start", [-10, 0, 14])
def test_check_in_inside_its_window_works_once(minutes_from_start, doctor, booking):
    now = booking.start_at + timedelta(minutes=minutes_from_start)
    changes.check_in(doctor, booking, now=now)
    db.session.commit()
    assert (booking.status, booking.checked_in_at) == ("checked_in", now)
    with pytest.raises(Conflict) as again:
        changes.check_in(doctor, booking, now=now)
    assert again.value.code == "already_checked_in"


def test_check_in_through_the_api(api_as, doctor, make_user, room, workstations, at):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=5)
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=start,
        end_at=start + timedelta(minutes=30),
    )
    db.session.add(booking)
    db.session.commit()
    stranger = make_user("doctor", clinic=room.clinic)
    assert api_as(stranger).post(f"/api/v1/bookings/{booking.id}/check-in").status_code == 404
    response = api_as(doctor).post(f"/api/v1/bookings/{booking.id}/check-in")
    assert response.status_code == 200 and response.get_json()["status"] == "checked_in"
    assert (
        api_as(doctor).post(f"/api/v1/bookings/{booking.id}/check-in").get_json()["error"]["code"]
        == "already_checked_in"
    )


def test_the_owner_cancels_until_the_start_and_not_after(doctor, booking):
    with pytest.raises(Conflict) as late:
        changes.cancel_booking(doctor, booking, now=booking.start_at + timedelta(minutes=1))
    assert late.value.code == "cancel_too_late"
    changes.cancel_booking(doctor, booking, now=booking.start_at - timedelta(minutes=1))
    db.session.commit()
    assert (booking.status, booking.cancelled_by_id) == ("cancelled", doctor.id)
    assert kinds_for(doctor) == []  # nobody is told about their own cancellation


def test_an_admin_cancels_with_a_reason_and_the_doctor_is_told(admin, doctor, booking, smtp_server, app, deliver_mail):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    changes.cancel_booking(admin, booking, now=booking.start_at - timedelta(hours=1), reason="Санобработка")
    db.session.commit()
    assert (booking.status, booking.cancelled_by_id, booking.cancel_reason) == ("cancelled", admin.id, "Санобработка")
    assert kinds_for(doctor) == ["booking_cancelled"]
    deliver_mail()
    [mail] = smtp_server.messages
    assert mail["To"] == doctor.email and "Санобработка" in mail.get_content()


def test_a_doctor_cannot_cancel_a_colleagues_booking(make_user, room, booking):
    colleague = make_user("doctor", clinic=room.clinic)
    with pytest.raises(NotAllowed):
        changes.cancel_booking(colleague, booking, now=booking.start_at - timedelta(hours=1))


def test_cancel_through_the_api_by_owner_and_other_doctors_get_404(api_as, doctor, make_user, room, booking):
    colleague = make_user("doctor", clinic=room.clinic)
    assert api_as(colleague).delete(f"/api/v1/bookings/{booking.id}").status_code == 404
    response = api_as(doctor).delete(f"/api/v1/bookings/{booking.id}")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert api_as(doctor).delete(f"/api/v1/bookings/{booking.id}").get_json()["error"]["code"] == "not_active"


def test_release_no_shows_frees_the_time_and_tells_the_doctor(doctor, booking, room, workstations, make_user):
    checked_in = Booking(
        user_id=make_user("doctor", clinic=room.clinic).id,
        workstation_id=workstations[1].id,
        room_id=room.id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        status="checked_in",
    )
    db.session.add(checked_in)
    db.session.commit()
    assert jobs.release_no_shows(now=booking.start_at + timedelta(minutes=14)) == []
    released = jobs.release_no_shows(now=booking.start_at + timedelta(minutes=15))
    db.session.commit()
    assert released == [booking]
    db.session.refresh(booking)
    db.session.refresh(checked_in)
    assert (booking.status, checked_in.status) == ("no_show", "checked_in")
    assert kinds_for(doctor) == ["no_show_released"]
    jobs.release_no_shows(now=booking.end_at)
    db.session.commit()
    db.session.refresh(checked_in)
    assert checked_in.status == "completed"
    # The time is free again for someone else.
    assert queries.active_bookings_overlapping(room.id, booking.start_at, booking.end_at) == []


def test_release_no_shows_cli_prints_how_many(app, booking):
    booking.start_at -= timedelta(days=3)
    booking.end_at -= timedelta(days=3)
    db.session.commit()
    result = CliRunner().invoke(app.cli, ["portal", "release-no-shows"], catch_exceptions=False)
    assert result.exit_code == 0 and "Released 1 booking" in result.output
    result = CliRunner().invoke(app.cli, ["portal", "release-no-shows"], catch_exceptions=False)
    assert "Released 0 booking" in result.output


def test_reminders_go_once_with_a_cancel_link_that_works(app, client, doctor, booking, smtp_server, deliver_mail):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, PORTAL_BASE_URL="http://portal.test")
    assert jobs.send_reminders(now=booking.start_at - timedelta(minutes=61)) == []
    assert jobs.send_reminders(now=booking.start_at - timedelta(minutes=60)) == [booking]
    db.session.commit()
    assert jobs.send_reminders(now=booking.start_at - timedelta(minutes=30)) == []
    deliver_mail()
    [mail] = smtp_server.messages
    body = mail.get_content()
    link = next(word for word in body.split() if "/bookings/cancel-link/" in word)
    assert link.startswith("http://portal.test/")
    path = link[len("http://portal.test") :]
    page = client.get(path)
    assert page.status_code == 200 and booking.status == "booked"  # opening the link cancels nothing
    from tests.conftest import csrf_token_from

    client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_a_doctor_who_opted_out_gets_the_reminder_in_the_portal_only(app, doctor, booking, smtp_server, deliver_mail):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    doctor.email_opt_out = "booking_reminder"
    db.session.commit()
    jobs.send_reminders(now=booking.start_at - timedelta(minutes=30))
    db.session.commit()
    assert kinds_for(doctor) == ["booking_reminder"]
    assert deliver_mail().attempted == 0
    assert smtp_server.messages == []


# --- rule 8 ------------------------------------------------------------------------------------


def test_out_of_service_moves_bookings_to_a_free_workstation_or_cancels_them(admin, make_user, room, workstations, at):
    broken, spare, busy = workstations
    doctors = [make_user("doctor", clinic=room.clinic) for _ in range(4)]
    past = Booking(
        user_id=doctors[0].id,
        workstation_id=broken.id,
        room_id=room.id,
        start_at=at(-1, "10:00"),
        end_at=at(-1, "11:00"),
        status="completed",
    )
    movable = Booking(
        user_id=doctors[1].id,
        workstation_id=broken.id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
        status="booked",
    )
    stuck = Booking(
        user_id=doctors[2].id,
        workstation_id=broken.id,
        room_id=room.id,
        start_at=at(1, "14:00"),
        end_at=at(1, "15:00"),
        status="booked",
    )
    # Both other workstations are busy at 14:00, by two doctors (one doctor cannot hold both at once).
    blockers = [
        Booking(
            user_id=doctors[3].id,
            workstation_id=spare.id,
            room_id=room.id,
            start_at=at(1, "14:00"),
            end_at=at(1, "14:30"),
        ),
        Booking(
            user_id=doctors[0].id,
            workstation_id=busy.id,
            room_id=room.id,
            start_at=at(1, "13:30"),
            end_at=at(1, "14:15"),
        ),
    ]
    db.session.add_all([past, movable, stuck, *blockers])
    db.session.commit()

    broken.status = "out_of_service"
    moved, cancelled = changes.relocate_or_cancel_future_bookings(broken, actor=admin, now=at(0, "12:00"))
    db.session.commit()

    assert (moved, cancelled) == ([movable], [stuck])
    db.session.refresh(movable)
    db.session.refresh(stuck)
    assert (movable.id, movable.workstation_id, movable.status) == (movable.id, spare.id, "booked")
    assert (stuck.status, stuck.cancelled_by_id) == ("cancelled", admin.id)
    assert past.workstation_id == broken.id
    assert kinds_for(doctors[1]) == ["booking_moved"]
    assert kinds_for(doctors[2]) == ["booking_cancelled"]
    assert db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.in_(["booking_moved", "booking_cancelled"]))
        .order_by(AuditEntry.action)
    ).all() == ["booking_cancelled", "booking_moved"]


def test_a_doctor_booking_the_spare_while_bookings_move_never_overlaps_them(
    app, admin, doctor, make_user, room, workstations, at
):
    """Another doctor books the first spare workstation for 10:30-11:30 through the booking service,
    at the worst moment: after the move found that spare free, just before the move is written.

    PostgreSQL lets the doctor commit in between; the move then loses to the database's overlap
    constraint and takes the next spare. SQLite admits one writer at a time, so the doctor waits
    for the move and is the one refused. Either way nobody shares a workstation.
    """
    broken, first_spare, second_spare = workstations
    booking = Booking(
        user_id=doctor.id, workstation_id=broken.id, room_id=room.id, start_at=at(1, "10:00"), end_at=at(1, "11:00")
    )
    db.session.add(booking)
    broken.status = "out_of_service"
    db.session.commit()
    # The doctor's thread touches none of this session's objects.
    racer_id, first_spare_id = make_user("doctor", clinic=room.clinic).id, first_spare.id
    start, end = at(1, "10:30"), at(1, "11:30")
    outcomes = []

    def book_the_first_spare():
        with app.app_context():
            racer, workstation = db.session.get(User, racer_id), db.session.get(Workstation, first_spare_id)
            try:
                creating.create_booking(racer, workstation=workstation, start=start, end=end, now=utcnow())
                db.session.commit()
                outcomes.append("booked")
            except Conflict as refused:
                db.session.rollback()
                outcomes.append(refused.code)

    racer_thread = threading.Thread(target=book_the_first_spare)

    def race_before_the_move_is_written(mapper, connection, target):
        if target is booking and target.workstation_id == first_spare_id and racer_thread.ident is None:
            racer_thread.start()
            if not is_sqlite():
                racer_thread.join(timeout=30)
                assert outcomes == ["booked"]  # committed before the move is written

    event.listen(Booking, "before_update", race_before_the_move_is_written)
    try:
        moved, cancelled = changes.relocate_or_cancel_future_bookings(broken, actor=admin, now=at(0, "12:00"))
        db.session.commit()
    finally:
        event.remove(Booking, "before_update", race_before_the_move_is_written)
    racer_thread.join(timeout=30)

    assert (moved, cancelled) == ([booking], [])
    racer_booking = db.session.scalar(select(Booking).where(Booking.user_id == racer_id))
    if is_sqlite():
        assert (outcomes, booking.workstation_id, racer_booking) == (["slot_taken"], first_spare_id, None)
    else:
        assert (outcomes, booking.workstation_id, racer_booking.workstation_id) == (
            ["booked"],
            second_spare.id,
            first_spare_id,
        )


def test_active_bookings_overlapping_lists_only_active_ones(doctor, booking, room, at):
    assert queries.active_bookings_overlapping(room.id, at(1, "10:30"), at(1, "12:00")) == [booking]
    assert queries.active_bookings_overlapping(room.id, at(1, "11:00"), at(1, "12:00")) == []
    booking.status = "cancelled"
    db.session.commit()
    assert queries.active_bookings_overlapping(room.id, at(1, "10:30"), at(1, "12:00")) == []


def test_taking_a_workstation_out_of_service_through_the_api_moves_its_bookings(
    api_as, admin, doctor, room, workstations, at
):
    booking = Booking(
        user_id=doctor.id,
        workstation_id=workstations[0].id,
        room_id=room.id,
        start_at=at(1, "10:00"),
        end_at=at(1, "11:00"),
    )
    db.session.add(booking)
    db.session.commit()
    response = api_as(admin).patch(f"/api/v1/workstations/{workstations[0].id}", json={"status": "out_of_service"})
    assert response.status_code == 200, response.get_json()
    db.session.refresh(booking)
    assert (booking.workstation_id, booking.status) == (workstations[1].id, "booked")
    assert kinds_for(doctor) == ["booking_moved"]
