"""The OpenAPI document is the contract: schemathesis calls every operation it describes with data
made from it (valid and deliberately invalid), as a signed-in admin of a clinic that has one of
each object, and checks every answer: no server error, a documented status, content type, headers
and body schema, invalid data refused, undocumented methods a 405 with Allow, no answer without
credentials.

Bounded: at most MAX_EXAMPLES generated cases per operation besides schemathesis' own boundary
cases. Checking that schema-valid input is always accepted is left out: the portal's rules (end
after start, a strong password, a known time zone, a free slot) refuse some schema-valid input with
a 400 or 409 by design.
"""

from datetime import datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from portal import create_app
from portal.auth import services as auth_services
from portal.booking import creating
from portal.clinics import faults, inventory, timetable
from portal.core.db import utcnow
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from portal.search.providers import SOURCE_NAMES
from portal.training import courses, scheduling
from tests.conftest import make_config

MAX_EXAMPLES = 50


class CurrentApp:
    """The WSGI app schemathesis calls: the app of the running test, each request in its own context."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with self.app.app_context():
            return self.app.wsgi_app(environ, start_response)


current = CurrentApp(create_app(make_config("sqlite://")))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", current)


@pytest.fixture
def config_overrides():
    # Searches reach a closed local port: every source answers with its error, quickly.
    return {"UPSTREAM_BASE_URLS": dict.fromkeys(SOURCE_NAMES, "http://127.0.0.1:9")}


@pytest.fixture
def admin_token(app, make_clinic, make_room, make_workstation, make_user):
    """A clinic with a room and one of each object (low ids, which generated ids often hit), and the
    bearer token of its admin, who is also a trainer and a doctor."""
    clinic = make_clinic()
    room = make_room(clinic=clinic)
    workstation = make_workstation(room=room)
    make_workstation(room=room)
    admin = make_user(role=["admin", "trainer", "doctor"], clinic=clinic)
    now = utcnow()
    tomorrow = to_local(now, room.timezone).date() + timedelta(days=1)

    def at(hour):
        return local_to_utc(datetime.combine(tomorrow, datetime.min.time().replace(hour=hour)), room.timezone)

    creating.create_booking(admin, workstation=workstation, start=at(10), end=at(11), now=now)
    course = courses.create_course(admin, clinic.id, title="ЭКГ", academic_hours=1, now=now)
    scheduling.schedule_session(admin, course=course, room=room, start=at(15), end=at(16), capacity=5, now=now)
    timetable.add_closure(admin, room, start=at(18), end=at(19), reason="уборка", now=now)
    item = inventory.create_equipment(admin, room, kind="monitor", inventory_number="INV-1", workstation=workstation)
    faults.report_problem(admin, room, description="Не включается", now=now, equipment=item)
    _token, raw = auth_services.issue_token(admin, "contract")
    db.session.commit()
    current.app = app
    return raw


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_the_documented_contract(case, admin_token):
    # Identity: over WSGI nothing undoes the compression a browser's Accept-Encoding would get.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}", "Accept-Encoding": "identity"},
        excluded_checks=[positive_data_acceptance],
    )
