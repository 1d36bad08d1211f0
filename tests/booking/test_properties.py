"""Random sequences of book / cancel / check in / release no-shows / time passing: after every step no two
active bookings overlap per workstation or per doctor, and every doctor stays within the quotas."""

from datetime import datetime, time, timedelta
from itertools import combinations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from portal.auth.models import User
from portal.booking import changes, creating, jobs
from portal.booking.models import ACTIVE_STATUSES, Booking
from portal.clinics.models import Clinic, OpeningHours, Room, Workstation
from portal.core.errors import DomainError
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from tests.conftest import empty_all_tables

TZ = "Europe/Moscow"
BASE = local_to_utc(datetime(2030, 3, 4, 7, 30), TZ)  # a Monday morning, before the room opens


class BookingMachine(RuleBasedStateMachine):
    successful_bookings = 0  # across examples: the run must have really booked, not only been refused

    @initialize()
    def build_room(self):
        clinic = Clinic(name="Поликлиника", short_name="П-1", timezone=TZ)
        self.room = Room(
            clinic=clinic,
            name="Кабинет",
            capacity=6,
            max_active=2,
            max_daily_minutes=90,
            max_minutes=120,
            horizon_days=3,
            checkin_grace_minutes=15,
        )
        self.room.opening_hours = [OpeningHours(weekday=d, opens=time(8), closes=time(14)) for d in range(7)]
        self.workstations = [Workstation(room=self.room, label=f"ПК-{n}") for n in range(3)]
        self.doctors = []
        for number in range(3):
            doctor = User(
                email=f"d{number}@example.org", full_name=f"Доктор {number}", clinic=clinic, password_hash="!"
            )
            doctor.set_roles(["doctor"])
            self.doctors.append(doctor)
        db.session.add_all([self.room, *self.workstations, *self.doctors])
        db.session.commit()
        self.now = BASE

    def teardown(self):
        db.session.remove()
        empty_all_tables()

    def _apply(self, action):
        try:
            result = action()
        except DomainError:
            db.session.rollback()
            return None
        db.session.commit()
        return result

    @rule(
        doctor=st.integers(0, 2),
        workstation=st.integers(0, 2),
        day=st.integers(0, 3),
        slot=st.integers(0, 24),
        slots=st.integers(1, 9),
    )
    def book(self, doctor, workstation, day, slot, slots):
        start = BASE + timedelta(days=day, minutes=30 + 15 * slot)
        end = start + timedelta(minutes=15 * slots)
        if self._apply(
            lambda: creating.create_booking(
                self.doctors[doctor], now=self.now, start=start, end=end, workstation=self.workstations[workstation]
            )
        ):
            BookingMachine.successful_bookings += 1

    def _some_booking(self, pick):
        bookings = db.session.scalars(select(Booking).order_by(Booking.id)).all()
        return bookings[pick % len(bookings)] if bookings else None

    @rule(pick=st.integers(0, 50))
    def cancel(self, pick):
        booking = self._some_booking(pick)
        if booking is not None:
            self._apply(lambda: changes.cancel_booking(booking.user, booking, now=self.now))

    @rule(pick=st.integers(0, 50))
    def check_in(self, pick):
        booking = self._some_booking(pick)
        if booking is not None:
            self._apply(lambda: changes.check_in(booking.user, booking, now=self.now))

    @rule(minutes=st.sampled_from([5, 15, 40, 120, 600]))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule()
    def release_no_shows(self):
        self._apply(lambda: jobs.release_no_shows(now=self.now))

    @invariant()
    def no_overlaps_and_quotas_hold(self):
        if not hasattr(self, "room"):
            return
        active = db.session.scalars(select(Booking).where(Booking.status.in_(ACTIVE_STATUSES))).all()
        for a, b in combinations(active, 2):
            if a.start_at < b.end_at and b.start_at < a.end_at:
                assert a.workstation_id != b.workstation_id, (a.id, b.id)
                assert a.user_id != b.user_id, (a.id, b.id)
        for doctor in self.doctors:
            upcoming = [b for b in active if b.user_id == doctor.id and b.end_at > self.now]
            assert len(upcoming) <= self.room.max_active
            minutes_per_day = {}
            for booking in db.session.scalars(
                select(Booking).where(Booking.user_id == doctor.id, Booking.status.in_(creating.DAILY_QUOTA_STATUSES))
            ):
                day = to_local(booking.start_at, TZ).date()
                minutes_per_day[day] = minutes_per_day.get(day, 0) + (booking.end_at - booking.start_at).seconds / 60
            assert all(total <= self.room.max_daily_minutes for total in minutes_per_day.values())


def test_random_booking_histories_keep_every_rule(app):
    run_state_machine_as_test(
        BookingMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert BookingMachine.successful_bookings > 0
