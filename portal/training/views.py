"""Training pages: catalogue, trainer's sessions, roster and attendance, learning record, certificates."""
import csv
import io
from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.clinics.models import Room
from portal.core.db import utcnow
from portal.core.errors import DomainError
from portal.core.forms import submit
from portal.core.permissions import get_in_clinic_or_404
from portal.core.urls import portal_url
from portal.core.time import local_to_utc, to_local
from portal.extensions import db
from portal.training import pdf, services
from portal.training.forms import (
    CUSTOM_DURATION, ActionForm, CancelSessionForm, CatalogueFilterForm, CourseForm, PeriodForm, SessionForm)
from portal.training.models import Enrolment, TrainingSession
from portal.training.permissions import (
    can_cancel_bookings_for, can_download_certificate, can_enrol, can_manage_session, can_run_courses,
    session_clinic_id)

bp = Blueprint("training", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/training")


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
    sessions = services.catalogue(current_user, now=now, topic=form.topic.data,
                                  first_day=form.first_day.data, last_day=form.last_day.data)
    mine = services.my_enrolments(current_user, [s.id for s in sessions])
    positions = {sid: services.waitlist_position(e) for sid, e in mine.items() if e.status == "waitlisted"}
    return render_template("training/catalogue.html", form=form, sessions=sessions, mine=mine,
                           positions=positions, action_form=ActionForm(), can_enrol=can_enrol)


@bp.post("/trainings/<int:session_id>/enrol")
@login_required
def enrol(session_id):
    training = _load_session(session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        enrolment, _changed = services.enrol(_actor(), training, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        position = services.waitlist_position(enrolment)
        db.session.commit()
        if position is None:
            flash(_("You are enrolled in “%(title)s”.", title=training.course.title), "success")
        else:
            flash(_("The session is full: you are on the waitlist, place %(position)d.", position=position), "info")
    return redirect(_back_to_catalogue())


@bp.post("/trainings/<int:session_id>/leave")
@login_required
def leave(session_id):
    training = _load_session(session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.leave(_actor(), training, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("You have left “%(title)s”.", title=training.course.title), "success")
    return redirect(_back_to_catalogue())


def _back_to_catalogue():
    from portal.core.views import _safe_next

    return _safe_next(request.form.get("next")) or url_for("training.catalogue")


# --- trainers: courses, sessions, series --------------------------------------------------------

@bp.get("/trainings/manage")
@login_required
def manage():
    _require_trainer()
    now = utcnow()
    sessions = services.sessions_of_clinic(current_user.clinic_id, now - timedelta(days=60), now + timedelta(days=400))
    upcoming = [s for s in sessions if s.end_at > now]
    past = [s for s in reversed(sessions) if s.end_at <= now]
    return render_template("training/manage.html", upcoming=upcoming, past=past,
                           courses=services.courses_of_clinic(current_user.clinic_id))


@bp.route("/trainings/courses/new", methods=["GET", "POST"])
@login_required
def new_course():
    _require_trainer()
    form = CourseForm()
    return submit(
        form, lambda: services.create_course(
            _actor(), current_user.clinic_id, title=form.title.data, academic_hours=form.academic_hours.data,
            nmo_id=form.nmo_id.data, description=form.description.data, now=utcnow()),
        on_error=_show_error,
        success_message=lambda course: _("The course “%(title)s” is created. Now schedule its sessions.",
                                         title=course.title),
        redirect_to=lambda course: url_for("training.new_session", course_id=course.id),
    ) or (render_template("training/course_form.html", form=form), 400 if form.errors else 200)


@bp.route("/trainings/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    _require_trainer()
    form = SessionForm()
    courses = services.courses_of_clinic(current_user.clinic_id)
    rooms = db.session.query(Room).filter(Room.clinic_id == current_user.clinic_id, Room.active.is_(True)) \
        .order_by(Room.name).all()
    form.course_id.choices = [SelectChoice(c.id, c.title) for c in courses]
    form.room_id.choices = [SelectChoice(r.id, f"{r.name} ({r.capacity})") for r in rooms]
    if request.method == "GET":
        form.course_id.data = request.args.get("course_id", type=int)
        if rooms and form.capacity.data is None:
            form.capacity.data = rooms[0].capacity
    conflicts = []
    if form.validate_on_submit():
        room = next(r for r in rooms if r.id == form.room_id.data)
        course = next(c for c in courses if c.id == form.course_id.data)
        start = local_to_utc(datetime.combine(form.day.data, form.start_time.data), room.timezone)
        minutes = _session_minutes(form, room)
        confirm = form.cancel_conflicting_bookings.data
        try:
            results = services.schedule_series(
                _actor(), course=course, room=room, first_start=start, minutes=minutes, weeks=form.weeks.data,
                capacity=form.capacity.data, whole_room=form.whole_room.data,
                cancel_conflicting_bookings=confirm, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            if len(results) == 1 and results[0].error is not None:
                db.session.rollback()
                _show_error(form, results[0].error)
                conflicts = results[0].conflicts
            else:
                db.session.commit()
                if len(results) == 1:
                    flash(_("The session is scheduled."), "success")
                    return redirect(url_for("training.roster", session_id=results[0].session.id))
                return render_template("training/series_result.html", results=results, room=room, course=course)
    return render_template("training/session_form.html", form=form, conflicts=conflicts, has_courses=bool(courses),
                           can_confirm=any(can_cancel_bookings_for(current_user, r) for r in rooms)), \
        400 if form.errors else 200


def _session_minutes(form, room):
    if form.duration.data != CUSTOM_DURATION:
        return int(form.duration.data)
    if form.end_time.data is None:
        return 0  # the service answers "the end must be after the start" next to the field
    end = local_to_utc(datetime.combine(form.day.data, form.end_time.data), room.timezone)
    start = local_to_utc(datetime.combine(form.day.data, form.start_time.data), room.timezone)
    return int((end - start).total_seconds() // 60)


FIELD_OF_ERROR = {"start": "start_time", "end": "end_time", "course_id": "course_id", "capacity": "capacity",
                  "weeks": "weeks", "title": "title", "academic_hours": "academic_hours", "nmo_id": "nmo_id"}


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
    return render_template("training/roster.html", training=training, roster=services.roster(training),
                           waitlist=services.waitlist(training), started=now >= training.start_at,
                           action_form=ActionForm(), cancel_form=CancelSessionForm(),
                           minutes=services.session_minutes(training))


@bp.post("/trainings/<int:session_id>/attendance")
@login_required
def mark_attendance(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    changed = 0
    try:
        for enrolment in services.roster(training):
            choice = request.form.get(f"attendance-{enrolment.user_id}")
            if choice in ("attended", "absent") and choice != enrolment.status:
                services.mark_attendance(_actor(), training, enrolment.user_id, choice == "attended", now=now)
                changed += 1
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Attendance saved (%(n)d changed).", n=changed), "success")
    return redirect(url_for("training.roster", session_id=training.id))


@bp.get("/trainings/<int:session_id>/sign-in-sheet")
@login_required
def sign_in_sheet(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    return render_template("training/sign_in_sheet.html", training=training, roster=services.roster(training))


@bp.post("/trainings/<int:session_id>/cancel")
@login_required
def cancel(session_id):
    training = _load_session(session_id)
    if not can_manage_session(current_user, training):
        abort(403)
    form = CancelSessionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.cancel_session(_actor(), training, reason=form.reason.data, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("The session is cancelled; the participants have been notified."), "success")
    return redirect(url_for("training.roster", session_id=training.id))


# --- learning record and certificates -----------------------------------------------------------

def _record_for_request():
    form = PeriodForm(request.args)
    form.validate()
    default_first, default_last = services.default_period(current_user, utcnow())
    first_day = form.first_day.data or default_first
    last_day = form.last_day.data or default_last
    form.first_day.data, form.last_day.data = first_day, last_day
    return form, services.learning_record(current_user, first_day=first_day, last_day=last_day)


def _certificate_numbers(record):
    return {row.id: row.certificate.number for row in record.rows if row.certificate and row.certificate.is_valid}


@bp.get("/trainings/record")
@login_required
def record():
    form, learning = _record_for_request()
    return render_template("training/record.html", form=form, record=learning,
                           numbers=_certificate_numbers(learning), query=request.query_string.decode())


@bp.get("/trainings/record.csv")
@login_required
def record_csv():
    _form, learning = _record_for_request()
    numbers = _certificate_numbers(learning)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Date"), _("Training"), _("Trainer"), _("Academic hours"), _("НМО accreditation id"),
                     _("Certificate")])
    for row in learning.rows:
        training, course = row.session, row.session.course
        writer.writerow([to_local(training.start_at, training.room.timezone).date().isoformat(), course.title,
                         course.trainer.full_name if course.trainer else "", _plain_number(course.academic_hours),
                         course.nmo_id or _("not НМО"), numbers.get(row.id, "")])
    writer.writerow([_("Total"), "", "", _plain_number(learning.total_hours), "", ""])
    # A byte-order mark lets spreadsheet programs recognise UTF-8 (Cyrillic) when the file is opened.
    return _download("\ufeff" + out.getvalue(), "text/csv; charset=utf-8", _record_filename(learning, "csv"))


@bp.get("/trainings/record.pdf")
@login_required
def record_pdf():
    _form, learning = _record_for_request()
    content = pdf.learning_record_pdf(current_user, learning, _certificate_numbers(learning))
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
    certificate = services.certificate_by_number(number)
    if certificate is None:
        return render_template("training/certificate_public.html", certificate=None, number=number), 404
    return render_template("training/certificate_public.html", certificate=certificate, number=number,
                           hours=pdf.format_hours(certificate.academic_hours)), 200 if certificate.is_valid else 410


def _download(content, mimetype, filename):
    return Response(content, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
