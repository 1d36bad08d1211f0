"""The audit log of a clinic as its administrators search it."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from portal.auth.models import User
from portal.clinics.models import Clinic
from portal.core.models import AuditEntry
from portal.core.time import local_to_utc
from portal.extensions import db


def search(clinic: Clinic, *, actor: str | None = None, action: str | None = None, date_from: date | None = None,
           date_to: date | None = None, page: int = 1, page_size: int = 100):
    """One page of a clinic's entries, newest first: (entries, {actor id: user}, whether a next page exists).

    `actor` matches a name or e-mail, `action` an action code, both as typed
    (ilike: SQLite folds only ASCII case, so the text is not lowered in Python);
    the dates are local days of the clinic, both included.
    """
    query = (select(AuditEntry).where(AuditEntry.clinic_id == clinic.id)
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))
    if actor:
        pattern = f"%{actor.strip()}%"
        query = query.join(User, AuditEntry.actor_id == User.id).where(
            or_(User.email.ilike(pattern), User.full_name.ilike(pattern)))
    if action:
        query = query.where(AuditEntry.action.ilike(f"%{action.strip()}%"))
    if date_from:
        query = query.where(AuditEntry.at >= local_to_utc(datetime.combine(date_from, time()), clinic.timezone))
    if date_to:
        query = query.where(AuditEntry.at < local_to_utc(datetime.combine(date_to + timedelta(days=1), time()),
                                                         clinic.timezone))
    entries = db.session.scalars(query.offset((page - 1) * page_size).limit(page_size + 1)).all()
    actor_ids = {entry.actor_id for entry in entries[:page_size] if entry.actor_id}
    actors = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
    return entries[:page_size], actors, len(entries) > page_size
