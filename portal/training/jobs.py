"""The periodic training jobs, safe on several machines at once."""

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.booking import cache
from portal.extensions import db
from portal.training.models import Enrolment, TrainingSession
from portal.training.notices import tell, when


def send_reminders(*, now, ahead=timedelta(hours=24)):
    """Remind enrolled doctors of sessions starting within `ahead`; each enrolment is reminded once.

    Safe on several machines at once: an enrolment is claimed by a conditional UPDATE, and
    only the transaction whose UPDATE changed the row sends that reminder.
    """
    due = db.session.scalars(
        select(Enrolment)
        .join(TrainingSession)
        .where(
            Enrolment.status == "enrolled",
            Enrolment.reminded_at.is_(None),
            TrainingSession.status == "scheduled",
            TrainingSession.start_at > now,
            TrainingSession.start_at <= now + ahead,
        )
    ).all()
    sent = 0
    for enrolment in due:
        claimed = db.session.execute(
            update(Enrolment)
            .where(Enrolment.id == enrolment.id, Enrolment.reminded_at.is_(None))
            .values(reminded_at=now)
        ).rowcount
        if not claimed:
            continue
        training = enrolment.session
        tell(
            enrolment.user,
            "training_reminder",
            lambda training=training: (
                _("Reminder: %(title)s", title=training.course.title),
                _(
                    "Your training starts on %(when)s in %(room)s (%(location)s).",
                    when=when(training),
                    room=training.room.name,
                    location=training.room.location,
                ),
            ),
        )
        sent += 1
    db.session.flush()
    return sent


def complete_past_sessions(*, now):
    """Scheduled sessions that have ended become `completed`; returns how many.

    One guarded UPDATE (`status = 'scheduled'` is re-checked under the row lock), so
    several machines running it at once complete each session once. Attendance
    can still be marked afterwards (`attendance.mark_attendance` refuses only
    cancelled sessions).
    """
    rows = db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.status == "scheduled", TrainingSession.end_at <= now)
        .values(status="completed")
        .returning(TrainingSession.room_id)
        .execution_options(synchronize_session=False, **cache.rooms_option(()))
    ).all()
    cache.mark_rooms_changed(db.session, {row.room_id for row in rows})
    return len(rows)
