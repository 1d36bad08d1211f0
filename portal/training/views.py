"""Training pages: catalogue, trainer's sessions, roster and attendance, learning record, certificates."""

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.clinics.services import rooms_of_clinic
from portal.core import transaction
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.core.exports import csv_response
from portal.core.forms import ActionForm, run_action, submit
from portal.core.permissions import get_in_clinic_or_404
from portal.core.time import local_to_utc, to_local
from portal.core.urls import portal_url, safe_next
from portal.extensions import db
from portal.training import attendance, courses, enrolling, pdf, queries, scheduling
from portal.training.forms import CancelForm, CatalogueFilterForm, CourseForm, PeriodForm, SessionEditForm, SessionForm
from portal.training.models import Course, Enrolment, TrainingSession
from portal.training.notices import format_hours
from portal.training.permissions import (
    can_cancel_bookings_for,
    can_download_certificate,
    can_enrol,
    can_manage_session,
    can_run_courses,
    session_clinic_id,
)

bp = Blueprint(
    "training", __name__, template_folder="templates", static_folder="static", static_url_path="/static/training"
)


def _actor():
    return current_user._get_current_object()


def _load_session(session_id):
    return get_in_clinic_or_404(TrainingSession, session_id, current_user, session_clinic_id)


def _require_trainer():
    if not current_user.clinic_id or not can_run_courses(current_user, current_user.clinic_id):
        abort(403)


# --- catalogue and enrolment -----------------------------------------------------------------


@bp.get("/trainings")
@login_required
def catalogue():
    form = CatalogueFilterForm(request.args)
    form.validate()
    now = utcnow()
    sessions = queries.catalogue(
        current_user, now=now, topic=form.topic.data, first_day=form.first_day.data, last_day=form.last_day.data
    )
    mine = queries.my_enrolments(current_user, [s.id for s in sessions])
    positions = {sid: enrolling.waitlist_position(e) for sid, e in mine.items() if e.status == "waitlisted"}
    return render_template(
        "training/catalogue.html",
        form=form,
        sessions=sessions,
        mine=mine,
        positions=positions,
        action_form=ActionForm(),
        can_enrol=can_enrol,
    )


@bp.post("/trainings/<int:session_id>/enrol")
@login_required
def enrol(session_id):
    training = _load_session(session_id)

    def enrolled_or_waitlisted(result):
        position = enrolling.waitlist_position(result[0])
        if position is None:
            return _("You are enrolled in “%(title)s”.", title=training.course.title)
        return _("The session is full: you are on the waitlist, place %(position)d.", position=position), "info"

    return run_action(
        lambda: enrolling.enrol(_actor(), training, now=utcnow()),
        success_message=enrolled_or_waitlisted,
        redirect_to=_back_to_catalogue(),
    )


@bp.post("/trainings/<int:session_id>/leave")
@login_required
def leave(session_id):
    training = _load_session(session_id)
    return run_action(
        lambda: enrolling.leave(_actor(), training, now=utcnow()),
        success_message=_("You have left “%(title)s”.", title=training.course.title),
        redirect_to=_back_to_catalogue(),
    )


def _back_to_catalogue():
    return safe_next(request.form.get("next")) or url_for("training.catalogue")


# --- trainers: courses, sessions, series --------------------------------------------------------


@bp.get("/trainings/manage")
@login_required
def manage():
    _require_trainer()
    now = utcnow()
    sessions = queries.sessions_of_clinic(current_user.clinic_id, now - timedelta(days=60), now + timedelta(days=400))
    upcoming = [s for s in sessions if s.end_at > now]
    past = [s for s in reversed(sessions) if s.end_at <= now]
    return render_template(
        "training/manage.html",
        upcoming=upcoming,
        past=past,
        now=now,
        courses=courses.courses_of_clinic(current_user.clinic_id, include_cancelled=True),
    )


@bp.route("/trainings/courses/new", methods=["GET", "POST"])
@login_required
def new_course():
    _require_trainer()
    form = CourseForm()
    return submit(
        form,
        lambda: courses.create_course(
            _actor(),
            current_user.clinic_id,
            title=form.title.data,
            academic_hours=form.academic_hours.data,
            nmo_id=form.nmo_id.data,
            description=form.description.data,
            now=utcnow(),
        ),
        on_error=_show_error,
        success_message=lambda course: _(
            "The course “%(title)s” is created. Now schedule its sessions.", title=course.title
        ),
        redirect_to=lambda course: url_for("training.new_session", course_id=course.id),
    ) or (render_template("training/course_form.html", form=form, course=None), 400 if form.errors else 200)


@bp.route("/trainings/courses/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit_course(course_id):
    course = _load_course(course_id)
    form = CourseForm(obj=course)
    return submit(
        form,
        lambda: courses.update_course(
            _actor(),
            course,
            title=form.title.data,
            description=form.description.data,
            academic_hours=form.academic_hours.data,
            nmo_id=form.nmo_id.data,
            now=utcnow(),
        ),
        on_error=_show_error,
        success_message=_("The course is saved."),
        redirect_to=url_for("training.manage"),
    ) or (
        render_template("training/course_form.html", form=form, course=course, cancel_form=CancelForm()),
        400 if form.errors else 200,
    )


@bp.post("/trainings/courses/<int:course_id>/cancel")
@login_required
def cancel_course(course_id):
    course = _load_course(course_id)
    form = CancelForm()
    return run_action(
        lambda: courses.cancel_course(_actor(), course, reason=form.reason.data, now=utcnow()),
        form=form,
        success_message=lambda cancelled: _(
            "The course is cancelled, and so are its %(n)d upcoming sessions; their participants have been notified.",
            n=len(cancelled),
        ),
        redirect_to=url_for("training.manage"),
    )


def _load_course(course_id):
    course = get_in_clinic_or_404(Course, course_id, current_user, lambda c: c.clinic_id)
    if not can_run_courses(current_user, course.clinic_id):
        abort(403)
    return course


@bp.route("/trainings/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    _require_trainer()
    form = SessionForm()
    clinic_courses = courses.courses_of_clinic(current_user.clinic_id)
    rooms = rooms_of_clinic(current_user.clinic_id)
    form.course_id.choices = [SelectChoice(c.id, c.title) for c in clinic_courses]
    form.room_id.choices = _room_choices(rooms)
    if request.method == "GET":
        form.course_id.data = request.args.get("course_id", type=int)
        if rooms and form.capacity.data is None:
            form.capacity.data = rooms[0].capacity
    conflicts = []
    if form.validate_on_submit():
        room = next(r for r in rooms if r.id == form.room_id.data)
        course = next(c for c in clinic_courses if c.id == form.course_id.data)
        start, end = _form_times(form, room, course.minutes)
        confirm = form.cancel_conflicting_bookings.data
        try:
            results = scheduling.schedule_series(
                _actor(),
                course=course,
                room=room,
                first_start=start,
                minutes=_minutes(start, end),
                weeks=form.weeks.data,
                capacity=form.capacity.data,
                whole_room=form.whole_room.data,
                cancel_conflicting_bookings=confirm,
                now=utcnow(),
            )
        except DomainError as error:
            transaction.roll_back()
            _show_error(form, error)
        else:
            if len(results) == 1 and results[0].error is not None:
                transaction.roll_back()
                _show_error(form, results[0].error)
                conflicts = results[0].conflicts
            else:
                _warn_of_length(next((r.session for r in results if r.session is not None), None))
                if len(results) == 1:
                    flash(_("The session is scheduled."), "success")
                    return redirect(url_for("training.roster", session_id=results[0].session.id))
                return render_template("training/series_result.html", results=results, room=room, course=course)
    return render_template(
        "training/session_form.html",
        form=form,
        conflicts=conflicts,
        has_courses=bool(clinic_courses),
        course_minutes={c.id: c.minutes for c in clinic_courses},
        can_confirm=any(can_cancel_bookings_for(current_user, r) for r in rooms),
    ), 400 if form.errors else 200


@bp.route("/trainings/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    rooms = rooms_of_clinic(session_clinic_id(training))
    trainers = queries.trainers_of_clinic(session_clinic_id(training))
    if training.trainer is not None and training.trainer not in trainers:
        trainers.append(training.trainer)  # keeps the field valid when the current one left the role
    form = SessionEditForm(data=None if request.method == "POST" else _session_values(training))
    form.room_id.choices = _room_choices(rooms)
    form.trainer_id.choices = [SelectChoice(t.id, t.full_name) for t in trainers]
    conflicts, below_enrolled = [], False
    if form.validate_on_submit():
        room = next(r for r in rooms if r.id == form.room_id.data)
        start, end = _form_times(form, room, training.course.minutes)
        try:
            change = scheduling.update_session(
                _actor(),
                training,
                start=start,
                end=end,
                room=room,
                capacity=form.capacity.data,
                trainer=next(t for t in trainers if t.id == form.trainer_id.data),
                move_to_waitlist=form.move_to_waitlist.data,
                cancel_conflicting_bookings=form.cancel_conflicting_bookings.data,
                now=utcnow(),
            )
        except DomainError as error:
            transaction.roll_back()
            _show_error(form, error)
            conflicts = error.details.get("conflicts", [])
            below_enrolled = error.code == "capacity_below_enrolled"
        else:
            flash(
                _(
                    "The session is saved. Waitlist: %(back)d returned, %(promoted)d got a seat; bookings "
                    "cancelled: %(bookings)d.",
                    back=len(change.moved_to_waitlist),
                    promoted=len(change.promoted),
                    bookings=len(change.cancelled_bookings),
                ),
                "success",
            )
            _warn_of_length(change.session)
            return redirect(url_for("training.roster", session_id=training.id))
    return render_template(
        "training/session_edit.html",
        form=form,
        training=training,
        conflicts=conflicts,
        below_enrolled=below_enrolled or form.move_to_waitlist.data,
        can_confirm=training.whole_room and can_cancel_bookings_for(current_user, training.room),
        course_minutes={training.course_id: training.course.minutes},
    ), 400 if form.errors else 200


def _room_choices(rooms):
    return [SelectChoice(r.id, f"{r.name} ({r.capacity})") for r in rooms]


def _session_values(training):
    timezone = training.room.timezone
    start, end = to_local(training.start_at, timezone), to_local(training.end_at, timezone)
    return {
        "room_id": training.room_id,
        "day": start.date(),
        "start_time": start.time(),
        "end_time": end.time(),
        "capacity": training.capacity,
        "trainer_id": training.trainer_id,
    }


def _form_times(form, room, default_minutes):
    """Start and end (UTC) from the form's local date and times; no end time means the course's length."""
    start = local_to_utc(datetime.combine(form.day.data, form.start_time.data), room.timezone)
    if form.end_time.data is None:
        return start, start + timedelta(minutes=default_minutes)
    return start, local_to_utc(datetime.combine(form.day.data, form.end_time.data), room.timezone)


def _minutes(start, end):
    return int((end - start).total_seconds() // 60)


def _warn_of_length(training):
    """A visible warning, not a refusal: the session is not as long as its course says."""
    if training is None or training.minutes == training.course.minutes:
        return
    flash(length_mismatch(training), "warning")


def length_mismatch(training):
    return _(
        "The session lasts %(minutes)d min, but the course is %(hours)s (%(course_minutes)d min): its "
        "certificates will state %(held)s.",
        minutes=training.minutes,
        hours=format_hours(training.course.academic_hours),
        course_minutes=training.course.minutes,
        held=format_hours(training.academic_hours),
    )


FIELD_OF_ERROR = {
    "start": "start_time",
    "end": "end_time",
    "course_id": "course_id",
    "capacity": "capacity",
    "weeks": "weeks",
    "title": "title",
    "academic_hours": "academic_hours",
    "nmo_id": "nmo_id",
    "description": "description",
    "room_id": "room_id",
    "trainer_id": "trainer_id",
}


def _show_error(form, error):
    """Show a service error next to its field, or above the form when it names none."""
    target = getattr(form, FIELD_OF_ERROR.get(error.field, ""), None)
    if target is None:
        flash(error.message, "danger")
        form.form_errors.append(error.message)
    else:
        target.errors = [*target.errors, error.message]


# --- roster, attendance, cancellation ---------------------------------------------------------


@bp.get("/trainings/<int:session_id>/roster")
@login_required
def roster(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    now = utcnow()
    return render_template(
        "training/roster.html",
        training=training,
        roster=queries.roster(training),
        waitlist=enrolling.waitlist(training),
        started=now >= training.start_at,
        action_form=ActionForm(),
        cancel_form=CancelForm(),
        length_warning=length_mismatch(training) if training.minutes != training.course.minutes else None,
    )


@bp.post("/trainings/<int:session_id>/attendance")
@login_required
def mark_attendance(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    choices = {
        enrolment.user_id: request.form.get(f"attendance-{enrolment.user_id}") for enrolment in queries.roster(training)
    }
    return run_action(
        lambda: attendance.mark_attendance_of(
            _actor(),
            training,
            {user_id: choice == "attended" for user_id, choice in choices.items() if choice in ("attended", "absent")},
            now=utcnow(),
        ),
        success_message=lambda changed: _("Attendance saved (%(n)d changed).", n=len(changed)),
        redirect_to=url_for("training.roster", session_id=training.id),
    )


@bp.get("/trainings/<int:session_id>/sign-in-sheet")
@login_required
def sign_in_sheet(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    return render_template("training/sign_in_sheet.html", training=training, roster=queries.roster(training))


@bp.post("/trainings/<int:session_id>/cancel")
@login_required
def cancel(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    form = CancelForm()
    return run_action(
        lambda: scheduling.cancel_session(_actor(), training, reason=form.reason.data, now=utcnow()),
        form=form,
        success_message=_("The session is cancelled; the participants have been notified."),
        redirect_to=url_for("training.roster", session_id=training.id),
    )


# --- learning record and certificates -----------------------------------------------------------


def _record_for_request():
    form = PeriodForm(request.args)
    form.validate()
    default_first, default_last = attendance.default_period(current_user, utcnow())
    first_day = form.first_day.data or default_first
    last_day = form.last_day.data or default_last
    form.first_day.data, form.last_day.data = first_day, last_day
    return form, attendance.learning_record(current_user, first_day=first_day, last_day=last_day)


@bp.get("/trainings/record")
@login_required
def record():
    form, learning = _record_for_request()
    return render_template("training/record.html", form=form, record=learning, query=request.query_string.decode())


@bp.get("/trainings/record.csv")
@login_required
def record_csv():
    _form, learning = _record_for_request()
    rows = [[_("Date"), _("Training"), _("Trainer"), _("Academic hours"), _("CME accreditation id"), _("Certificate")]]
    rows += [
        [
            line.day.isoformat(),
            line.title,
            line.trainer_name,
            _plain_number(line.hours),
            line.nmo_id or _("not CME"),
            line.certificate_number or "",
        ]
        for line in learning.rows
    ]
    rows.append([_("Total"), "", "", _plain_number(learning.total_hours), "", ""])
    return csv_response(rows, _record_filename(learning, "csv"))


@bp.get("/trainings/record.pdf")
@login_required
def record_pdf():
    _form, learning = _record_for_request()
    content = pdf.learning_record_pdf(current_user, learning)
    return _download(content, "application/pdf", _record_filename(learning, "pdf"))


def _plain_number(value):
    """1.5 and 2 (not 2.0): what spreadsheet programs read as numbers."""
    return format(value.normalize(), "f")


def _record_filename(learning, extension):
    return f"learning-record-{learning.first_day.isoformat()}-{learning.last_day.isoformat()}.{extension}"


@bp.get("/trainings/certificates/<int:enrolment_id>.pdf")
@login_required
def certificate_pdf(enrolment_id):
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or not can_download_certificate(current_user, enrolment):
        abort(404)
    certificate = enrolment.certificate
    if certificate is None or not certificate.is_valid:
        abort(404)
    content = pdf.certificate_pdf(certificate, verification_url(certificate.number))
    return _download(content, "application/pdf", f"certificate-{certificate.number}.pdf")


def verification_url(number):
    """Absolute, from PORTAL_BASE_URL: the QR code is scanned outside the portal."""
    return portal_url("training.verify_certificate", number=number, external=True)


@bp.get("/certificates/<number>")
def verify_certificate(number):
    certificate = attendance.certificate_by_number(number)
    if certificate is None:
        return render_template("training/certificate_public.html", certificate=None, number=number), 404
    return render_template(
        "training/certificate_public.html",
        certificate=certificate,
        number=number,
        hours=format_hours(certificate.academic_hours),
    ), 200 if certificate.is_valid else 410


def _download(content, mimetype, filename):
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
