"""How trainings follow what the clinics package announces (see portal/clinics/signals.py)."""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.training import scheduling
from portal.training.models import TrainingSession


def cancel_sessions_in_withdrawn_room(room, *, actor, now):
    """Sessions of the room that have not started are cancelled; everyone enrolled or waitlisted is told."""
    upcoming = db.session.scalars(
        select(TrainingSession)
        .where(
            TrainingSession.room_id == room.id, TrainingSession.status == "scheduled", TrainingSession.start_at > now
        )
        .order_by(TrainingSession.start_at)
    ).all()
    for training in upcoming:
        scheduling.cancel_session(actor, training, reason=_("The room no longer takes trainings."), now=now)


def connect():
    from portal.clinics.signals import room_withdrawn

    room_withdrawn.connect(cancel_sessions_in_withdrawn_room)
