"""Forty doctors enrol in a five-seat session at the same moment: real threads, real commits."""

import threading

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.training.models import Enrolment, TrainingSession

DOCTORS = 40
SEATS = 5


@pytest.mark.slow
def test_forty_doctors_race_for_five_seats_then_three_leave(app, api_as, schedule, make_user, clinic):
    training = schedule(capacity=SEATS)
    path = f"/api/v1/trainings/{training.id}/enrolment"
    doctors = [make_user(clinic=clinic) for _ in range(DOCTORS)]
    clients = [api_as(doctor) for doctor in doctors]
    db.session.commit()  # SQLite: the test's open transaction would hold the write lock
    start_together = threading.Barrier(DOCTORS)
    answers = [None] * DOCTORS

    def enrol(index):
        with app.app_context():
            start_together.wait()
            response = clients[index].post(path)
            answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=enrol, args=(i,)) for i in range(DOCTORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = [status for status, _body in answers]
    assert statuses.count(201) == SEATS and statuses.count(202) == DOCTORS - SEATS
    positions = sorted(body["position"] for status, body in answers if status == 202)
    assert positions == list(range(1, DOCTORS - SEATS + 1))
    db.session.expire_all()
    assert db.session.get(TrainingSession, training.id).seats_taken == SEATS
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.session_id == training.id, Enrolment.status == "enrolled")
        )
        == SEATS
    )

    by_position = {body["position"]: index for index, (status, body) in enumerate(answers) if status == 202}
    seated = [index for index, (status, _body) in enumerate(answers) if status == 201]
    for leaving, promoted_position in zip(seated[:3], (1, 2, 3), strict=True):
        assert clients[leaving].delete(path).status_code == 200
        promoted = clients[by_position[promoted_position]].get(path).get_json()
        assert (promoted["status"], promoted["position"]) == ("enrolled", None)
        # Everyone behind moved up by one, in the same order.
        next_in_line = clients[by_position[promoted_position + 1]].get(path).get_json()
        assert next_in_line["position"] == 1
    assert clients[by_position[DOCTORS - SEATS]].get(path).get_json()["position"] == DOCTORS - SEATS - 3
