"""Booking pages: room schedule (day and week), booking form, book now, my bookings, check-in,
calendar feed, door display, e-mail preferences and the one-click cancel link."""

import contextlib
from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from portal.auth import read_along, read_with_caller
from portal.auth.services import caller_fingerprint
from portal.booking import cache, calendar, changes, creating, links, notices, qr, queries
from portal.booking.availability import grid_ceil, load_room_state, local_day_range
from portal.booking.forms import BookingForm, BookNowForm, CancelForm
from portal.booking.grid import build_grid, free_per_day, phone_rows
from portal.booking.models import Booking
from portal.booking.permissions import (
    can_administer_room,
    can_book_in_room,
    can_cancel,
    can_manage_booking,
    can_see_who_booked,
)
from portal.clinics.models import Workstation
from portal.clinics.schedule import next_opening
from portal.clinics.services import bookable_rooms, visible_clinics
from portal.core import kept_pages
from portal.core.db import reads_only, utcnow
from portal.core.errors import DomainError, Invalid, NotAllowed, NotFound
from portal.core.forms import ActionForm, run_action
from portal.core.time import format_local_span, local_to_utc, parse_day, parse_local_time, to_local
from portal.core.urls import portal_url, safe_next
from portal.extensions import db

bp = Blueprint(
    "booking", __name__, template_folder="templates", static_folder="static", static_url_path="/static/booking"
)

WEEK_CELL_MINUTES = 60


def _day_arg(room):
    """The ?date= of a schedule (YYYY-MM-DD, years 2000–2100); today in the room's zone when absent."""
    raw = request.args.get("date")
    if not raw:
        return to_local(utcnow(), room.timezone).date()
    day = parse_day(raw)
    if day is None:
        raise Invalid(_("Enter a date between the years 2000 and 2100."), code="invalid_date", field="date")
    return day


def _local(room, day, moment):
    return local_to_utc(datetime.combine(day, moment), room.timezone)


# --- rooms and the schedule ----------------------------------------------------------------


@bp.get("/booking")
@login_required
def rooms():
    clinics = visible_clinics(current_user)
    all_rooms = [room for clinic in clinics for room in bookable_rooms(clinic)]
    if len(all_rooms) == 1:
        return redirect(url_for("booking.schedule", room_id=all_rooms[0].id))
    return render_template("booking/rooms.html", clinics=clinics, bookable_rooms=bookable_rooms)


@bp.get("/rooms/<int:room_id>/schedule")
@reads_only
@read_with_caller(queries.room_at_version_read)
@login_required
def schedule(room_id):
    """A week from the chosen day (today by default) or one day.

    The grid is drawn once per room version and viewer (own bookings, and names for those who may see
    them, differ) and kept until the next grid line, when free times move with the clock
    (portal.booking.cache). For a viewer who does not administer the room the whole page is kept the
    same way, with the layout in its key (portal.core.kept_pages): an admin's page also lists each
    doctor's no-shows, which other rooms change.
    """
    viewer = current_user._get_current_object()
    gate = queries.visible_room_at_version(viewer, room_id, read_along())
    view = "day" if request.args.get("view") == "day" else "week"
    day = _day_arg(gate)
    now = utcnow()
    can_book = can_book_in_room(viewer, gate)
    sees_who = can_see_who_booked(viewer, gate)
    variant = f"{view}:{day.isoformat()}:{viewer.id}:{sees_who:d}{can_book:d}:{get_locale()}"
    administers = can_administer_room(viewer, gate)

    def page():
        room = queries.visible_room(viewer, room_id)
        return _schedule_page(room, gate.version, view, day, now, variant, can_book, sees_who, administers)

    if administers:
        return page()[0]
    layout = kept_pages.layout_key(caller_fingerprint(viewer), gate.unread_notifications)
    if layout is None:
        return page()[0]
    return kept_pages.serve(
        cache.get_or_compute(
            room_id, f"page:{variant}:{layout}", lambda: kept_pages.render_with_stand_in(page), version=gate.version
        )
    )


def _schedule_page(room, version, view, day, now, variant, can_book, sees_who, administers):
    """The schedule page's HTML and the time it holds until."""
    today = to_local(now, room.timezone).date()
    step = timedelta(days=7 if view == "week" else 1)
    admin_bookings = None
    if administers:
        admin_bookings = queries.room_bookings_with_no_shows(room, *local_day_range(room, day, step.days))
    grid = cache.get_or_compute(
        room.id,
        f"grid:{variant}",
        lambda: (
            _schedule_grid(room, view, day, now, today, current_user.id, can_book, sees_who),
            _holds_until(room, now),
        ),
        version=version,
    )
    html = render_template(
        "booking/schedule.html",
        room=room,
        view=view,
        day=day,
        last_day=day + step - timedelta(days=1),
        schedule_grid=Markup(grid),
        previous_day=day - step,
        next_day=day + step,
        today=today,
        can_book=can_book,
        book_now_form=BookNowForm(),
        admin_bookings=admin_bookings,
        cancel_form=CancelForm(),
        action_form=ActionForm(),
    )
    return html, _holds_until(room, now)


def _holds_until(room, now):
    """Free times start at the next grid line: what is drawn now holds until the clock reaches it."""
    next_line = grid_ceil(now, room)
    if next_line == now:
        next_line += timedelta(minutes=room.slot_minutes)
    return next_line.timestamp()


def _schedule_grid(room, view, day, now, today, viewer_id, can_book, sees_who):
    """The grid's HTML, with the small screens' list."""
    if view == "week":
        days, cell_minutes = [day + timedelta(days=n) for n in range(7)], max(WEEK_CELL_MINUTES, room.slot_minutes)
    else:
        days, cell_minutes = [day], room.slot_minutes
    start, end = local_day_range(room, days[0], len(days))
    state = load_room_state(room, start, end)
    names = queries.names_of({b.user_id for b in state.bookings}) if sees_who else None
    grid = build_grid(state, days, cell_minutes, now, viewer_id, names)
    return render_template(
        "booking/_schedule_grid.html",
        room=room,
        grid=grid,
        view=view,
        day=day,
        state=state,
        today=today,
        can_book=can_book,
        free_per_day=free_per_day(grid) if view == "week" else None,
        phone=phone_rows(state, now, viewer_id, max(WEEK_CELL_MINUTES, room.slot_minutes)) if view == "day" else None,
    )


@bp.post("/rooms/<int:room_id>/book-slot")
@login_required
def book_slot(room_id):
    """One tap on a small screen: `slot` is "<workstation id> <local start> <local end>"."""
    room = queries.visible_room(current_user, room_id)
    workstation, start, end = _slot(room, request.form.get("slot", ""))
    return run_action(
        lambda: creating.create_booking(current_user, workstation=workstation, start=start, end=end, now=utcnow()),
        success_message=lambda booking: _("Booked: %(what)s", what=notices.describe(booking)),
        redirect_to=url_for(
            "booking.schedule", room_id=room.id, view="day", date=to_local(start, room.timezone).date().isoformat()
        ),
    )


def _slot(room, raw):
    workstation_id, _sep, times = raw.partition(" ")
    start_text, _sep, end_text = times.partition(" ")
    workstation = (
        db.session.get(Workstation, int(workstation_id))
        if workstation_id.isdigit() and len(workstation_id) < 10
        else None
    )
    start, end = parse_local_time(start_text), parse_local_time(end_text)
    if workstation is None or workstation.room_id != room.id or start is None or end is None:
        raise Invalid(_("Choose a free time."), code="invalid_slot", field="slot")
    return workstation, local_to_utc(start, room.timezone), local_to_utc(end, room.timezone)


# --- booking --------------------------------------------------------------------------------


def _booking_form(room):
    form = BookingForm()
    form.workstation_id.choices = [SelectChoice(w.id, w.label) for w in room.workstations if w.is_active]
    return form


@bp.route("/rooms/<int:room_id>/book", methods=["GET", "POST"])
@login_required
def book(room_id):
    room = queries.visible_room(current_user, room_id)
    if not can_book_in_room(current_user, room):
        raise NotAllowed(_("Only doctors of this clinic can book here."))
    form = _booking_form(room)
    alternatives, status = [], 200
    if request.method == "GET":
        _prefill(form, room)
    elif form.validate_on_submit():
        workstation = db.session.get(Workstation, form.workstation_id.data)
        start = _local(room, form.day.data, form.start.data)
        end = _local(room, form.day.data, form.end.data)
        if workstation is None or workstation.room_id != room.id:
            form.workstation_id.errors.append(_("Choose a workstation."))
        elif end <= start:
            form.end.errors.append(_("The end must be after the start."))
        else:
            try:
                booking = creating.create_booking(
                    current_user, workstation=workstation, start=start, end=end, now=utcnow()
                )
            except DomainError as error:
                field = getattr(form, error.field, None) if error.field else None
                (field.errors if field is not None else form.form_errors).append(error.message)
                alternatives = [_alternative_choice(room, a) for a in error.details.get("alternatives", [])]
                status = error.status
            else:
                flash(_("Booked: %(what)s", what=notices.describe(booking)), "success")
                return redirect(
                    url_for(
                        "booking.schedule",
                        room_id=room.id,
                        view=request.args.get("view", "week"),
                        date=form.day.data.isoformat(),
                    )
                )
    if form.errors and status == 200:
        status = 400
    return render_template("booking/book.html", room=room, form=form, alternatives=alternatives), status


def _prefill(form, room):
    """The schedule's links carry the workstation (w) and the picked cells' local start (s) and end (e);
    without an end, a week cell's length."""
    args = request.args
    with contextlib.suppress(ValueError):
        form.workstation_id.data = int(args.get("w", ""))
    start = parse_local_time(args.get("s"))
    if start is None:
        return
    end = parse_local_time(args.get("e")) or start + timedelta(minutes=max(WEEK_CELL_MINUTES, room.slot_minutes))
    form.day.data, form.start.data, form.end.data = start.date(), start.time(), end.time()


def _alternative_choice(room, alternative):
    start = datetime.fromisoformat(alternative["start"])
    end = datetime.fromisoformat(alternative["end"])
    return {
        "workstation_id": alternative["workstation_id"],
        "label": alternative["workstation_label"],
        "day": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "when": format_local_span(start, end, room.timezone),
    }


@bp.post("/rooms/<int:room_id>/book-now")
@login_required
def book_now(room_id):
    """The next free workstation from the next grid line, for 30 or 60 minutes."""
    room = queries.visible_room(current_user, room_id)
    form = BookNowForm()
    return run_action(
        lambda: creating.book_now(current_user, room, minutes=form.minutes.data, now=utcnow()),
        form=form,
        success_message=lambda booking: _("Booked: %(what)s", what=notices.describe(booking)),
        redirect_to=url_for("booking.schedule", room_id=room.id, view="day"),
    )


# --- my bookings, one booking ---------------------------------------------------------------


@bp.get("/bookings")
@login_required
def my_bookings():
    now = utcnow()
    return render_template(
        "booking/my_bookings.html",
        upcoming=queries.upcoming_bookings(current_user, now),
        past=queries.past_bookings(current_user, now),
        now=now,
        can_check_in=changes.can_check_in_now,
        can_cancel=can_cancel,
        action_form=ActionForm(),
    )


@bp.get("/bookings/<int:booking_id>")
@login_required
def booking_detail(booking_id):
    booking = queries.visible_booking(current_user, booking_id)
    now = utcnow()
    return render_template(
        "booking/booking.html",
        booking=booking,
        now=now,
        can_manage=can_manage_booking(current_user, booking),
        can_cancel=can_cancel(current_user, booking, now),
        can_check_in=changes.can_check_in_now(booking, now),
        sees_who=booking.user_id != current_user.id,
        action_form=ActionForm(),
    )


def _back(default):
    return safe_next(request.form.get("next")) or default


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id):
    """Two steps, with or without JavaScript: a cancel button (a link, or a form posted without `confirm`)
    leads to a page that asks once more; only its button cancels."""
    booking = queries.visible_booking(current_user, booking_id)
    form = CancelForm()
    if not form.confirm.data:
        if request.method == "GET":
            form.next.data = safe_next(request.args.get("next"))
        now = utcnow()
        return render_template(
            "booking/cancel_confirm.html",
            booking=booking,
            form=form,
            can_cancel=can_cancel(current_user, booking, now),
            sees_who=booking.user_id != current_user.id,
            back=safe_next(form.next.data) or url_for("booking.booking_detail", booking_id=booking.id),
        )
    return run_action(
        lambda: changes.cancel_booking(current_user, booking, now=utcnow(), reason=form.reason.data),
        form=form,
        success_message=_("The booking is cancelled."),
        redirect_to=_back(url_for("booking.my_bookings")),
    )


@bp.post("/bookings/<int:booking_id>/check-in")
@login_required
def check_in(booking_id):
    booking = queries.visible_booking(current_user, booking_id)
    return run_action(
        lambda: changes.check_in(current_user, booking, now=utcnow()),
        success_message=_("You are checked in. Have a good session!"),
        redirect_to=_back(url_for("booking.my_bookings")),
    )


@bp.get("/bookings/<int:booking_id>.ics")
@login_required
def booking_ics(booking_id):
    booking = queries.visible_booking(current_user, booking_id)
    return Response(
        calendar.booking_ics(booking, utcnow()), headers=calendar.calendar_response_headers(f"booking-{booking.id}.ics")
    )


@bp.get("/workstations/<int:workstation_id>/check-in")
@login_required
def workstation_check_in(workstation_id):
    """Where a workstation's QR code leads: the signed-in doctor's booking on it, ready to check in."""
    workstation = queries.visible_workstation(current_user, workstation_id)
    now = utcnow()
    booking = queries.booking_to_check_in(current_user, workstation, now)
    return render_template(
        "booking/workstation_check_in.html",
        workstation=workstation,
        booking=booking,
        can_check_in=booking is not None and changes.can_check_in_now(booking, now),
        action_form=ActionForm(),
    )


# --- door display -----------------------------------------------------------------------------


@bp.post("/rooms/<int:room_id>/display-link")
@login_required
def new_display_link(room_id):
    room = queries.visible_room(current_user, room_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = links.issue_display_token(current_user, room)
    return render_template(
        "booking/secret_link.html",
        title=_("Door display link"),
        link=portal_url("booking.display", token=raw, external=True),
        back=url_for("booking.schedule", room_id=room.id),
    )


@bp.get("/display/<token>")
def display(token):
    """Read-only, no sign-in: each workstation's state now and next, and its check-in QR code."""
    room = links.room_for_display_token(token)
    if room is None:
        raise NotFound(_("This display link is not valid."))
    now = utcnow()
    state = load_room_state(room, now, now + timedelta(hours=24))
    rows = []
    for workstation_id, label, status in state.workstations:
        # No check-in on a computer out of service: its bookings have been moved or cancelled.
        check_in_qr = (
            Markup(qr.svg(portal_url("booking.workstation_check_in", workstation_id=workstation_id, external=True)))
            if status == "active"
            else None
        )
        rows.append({"label": label, "status": status, **_now_and_next(state, workstation_id, now), "qr": check_in_qr})
    opens_at = next_opening(room, now)
    return render_template(
        "booking/display.html",
        room=room,
        rows=rows,
        now=now,
        closed_message=notices.room_closed_message(room, opens_at, now) if opens_at != now else None,
        report_qr=Markup(qr.svg(portal_url("clinics.report_problem", room_id=room.id, external=True))),
    )


def _now_and_next(state, workstation_id, now):
    busy = [(s, e, kind) for s, e, kind in state.busy(workstation_id) if e > now]
    current = next(((s, e, kind) for s, e, kind in busy if s <= now), None)
    upcoming = next(((s, e, kind) for s, e, kind in busy if s > now), None)
    return {"current": current, "upcoming": upcoming}


# --- calendar feed ----------------------------------------------------------------------------


@bp.get("/calendar")
@login_required
def calendar_page():
    return render_template(
        "booking/calendar.html", has_feed=bool(current_user.calendar_token_hash), action_form=ActionForm()
    )


@bp.post("/calendar")
@login_required
def new_calendar_link():
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = links.issue_calendar_token(current_user._get_current_object())
    return render_template(
        "booking/secret_link.html",
        title=_("Your calendar feed"),
        link=portal_url("booking.calendar_feed", token=raw, external=True),
        back=url_for("booking.calendar_page"),
    )


@bp.post("/calendar/revoke")
@login_required
def revoke_calendar_link():
    return run_action(
        lambda: links.revoke_calendar_token(current_user._get_current_object()),
        success_message=_("The calendar link no longer works."),
        redirect_to=url_for("booking.calendar_page"),
    )


@bp.get("/calendar/<token>.ics")
def calendar_feed(token):
    user = links.user_for_calendar_token(token)
    if user is None:
        raise NotFound(_("This calendar link is not valid."))
    return Response(calendar.feed_ics(user, utcnow()), headers=calendar.calendar_response_headers("bookings.ics"))


# --- the reminder's cancel link ---------------------------------------------------------------


@bp.route("/bookings/cancel-link/<token>", methods=["GET", "POST"])
def cancel_by_link(token):
    """The reminder's link: a page with one button (a GET must not cancel: mail scanners open links)."""
    ids = notices.booking_id_from_cancel_token(token)
    booking = db.session.get(Booking, ids[0]) if ids else None
    if booking is None or booking.user_id != ids[1]:
        raise NotFound(_("This link is not valid."))
    if request.method == "POST":
        return run_action(
            lambda: changes.cancel_booking(
                booking.user, booking, now=utcnow(), reason=_("Cancelled from the reminder.")
            ),
            success_message=_("The booking is cancelled. Thank you for freeing the workstation."),
            redirect_to=url_for("booking.cancel_by_link", token=token),
        )
    return render_template(
        "booking/cancel_link.html",
        booking=booking,
        form=ActionForm(),
        active=booking.is_active and booking.start_at > utcnow(),
    )


# --- dashboard ---------------------------------------------------------------------------------


def dashboard_panel(user):
    if not user.has_role("doctor", "trainer"):
        return None
    now = utcnow()
    return Markup(
        render_template(
            "booking/_dashboard_panel.html",
            upcoming=queries.upcoming_bookings(user, now, 3),
            now=now,
            can_check_in=changes.can_check_in_now,
            action_form=ActionForm(),
        )
    )
