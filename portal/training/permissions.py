"""Who may do what with trainings. One rule each, used by views, the API, services and templates."""

from portal.core.permissions import can_administer_clinic, can_train_in_clinic


def session_clinic_id(training):
    return training.room.clinic_id


def can_run_courses(user, clinic_id):
    """Trainers (and admins) create courses and sessions for their own clinic only."""
    return can_train_in_clinic(user, clinic_id)


def can_schedule_in_room(user, room):
    """Training rule 1: sessions only in rooms of the trainer's own clinic."""
    return can_run_courses(user, room.clinic_id)


def can_manage_session(user, training):
    """Roster, attendance and cancellation: the clinic's trainers and admins (colleagues stand in for
    each other, so it is not limited to the course's own trainer)."""
    return can_train_in_clinic(user, session_clinic_id(training))


def can_cancel_bookings_for(user, room):
    """Training rule 2: only an admin of the room's clinic may confirm cancelling bookings for a session."""
    return can_administer_clinic(user, room.clinic_id)


def can_enrol(user, training):
    """Doctors enrol in sessions of their own clinic."""
    return bool(user.is_authenticated and user.clinic_id == session_clinic_id(training) and user.has_role("doctor"))


def can_download_certificate(user, enrolment):
    """The holder, and whoever manages the session (to hand out a copy)."""
    return user.is_authenticated and (enrolment.user_id == user.id or can_manage_session(user, enrolment.session))
