"""The audit log as sentences a clinic administrator reads: who did what to which thing, and when.

Rows keep codes, ids and UTC times (`portal.core.audit`); this module names the people, workstations,
rooms and courses they point to, writes times in the clinic's zone, and says it in the reader's language.
A thing deleted since is named by what the row itself kept, or generically.
"""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import ApiToken, User
from portal.booking.models import Booking
from portal.clinics.labels import kind_label, status_label
from portal.clinics.models import Clinic, Closure, EquipmentItem, ProblemReport, Room, Workstation
from portal.core import ROLE_LABELS
from portal.core.time import format_local_span
from portal.extensions import db
from portal.search.models import LinkedResource
from portal.search.services import SOURCE_LABELS
from portal.training.models import Course, Enrolment, TrainingSession

# The tables an entry's object lives in (AuditEntry.object_type), and what its details point to.
MODELS = {
    model.__tablename__: model
    for model in (
        ApiToken,
        Booking,
        Clinic,
        Closure,
        Course,
        Enrolment,
        EquipmentItem,
        LinkedResource,
        ProblemReport,
        Room,
        TrainingSession,
        User,
        Workstation,
    )
}
DETAIL_REFERENCES = {
    "user_id": User,
    "workstation_id": Workstation,
    "from_workstation_id": Workstation,
    "to_workstation_id": Workstation,
    "room_id": Room,
    "course_id": Course,
    "training_session_id": TrainingSession,
}

# What the audit page lets an administrator narrow the log to, and the actions each choice covers.
KINDS = {
    "bookings": (
        _l("Bookings"),
        (
            "booking_created",
            "booking_refused",
            "booking_cancelled",
            "booking_checked_in",
            "booking_moved",
            "booking_no_show",
        ),
    ),
    "sign_ins": (_l("Sign-ins"), ("sign_in", "sign_in_failed", "sign_in_refused", "sign_in_refused_locked")),
    "accounts": (
        _l("Accounts"),
        (
            "user_created",
            "user_activated",
            "user_deactivated",
            "user_roles_changed",
            "user_moved_clinic",
            "password_changed",
            "api_token_created",
            "api_token_revoked",
            "city_account_linked",
            "calendar_link_created",
            "calendar_link_revoked",
        ),
    ),
    "rooms": (
        _l("Rooms, workstations and closures"),
        (
            "clinic_created",
            "clinic_updated",
            "clinic_activated",
            "clinic_deactivated",
            "room_created",
            "room_updated",
            "room_activated",
            "room_deactivated",
            "room_hours_changed",
            "room_policy_changed",
            "display_link_created",
            "closure_added",
            "closure_removed",
            "workstation_created",
            "workstation_updated",
            "workstation_status_changed",
        ),
    ),
    "equipment": (
        _l("Equipment and problem reports"),
        ("equipment_created", "equipment_updated", "problem_reported", "problem_report_status_changed"),
    ),
    "trainings": (
        _l("Trainings"),
        (
            "course_created",
            "course_updated",
            "course_cancelled",
            "training_session_scheduled",
            "training_session_updated",
            "training_session_cancelled",
            "attendance_marked",
        ),
    ),
    "search": (
        _l("Scientific databases"),
        (
            "search.sources_linked",
            "search.link_prefix_set",
            "search.resource_added",
            "search.resource_deleted",
            "search.guidelines_loaded",
        ),
    ),
    "privacy": (_l("Privacy"), ("history_anonymised",)),
}


class Things:
    """Every row a page of entries points to, loaded with one query per table."""

    def __init__(self, entries):
        wanted = {}
        for entry in entries:
            if entry.object_type in MODELS and entry.object_id is not None:
                wanted.setdefault(MODELS[entry.object_type], set()).add(entry.object_id)
            if entry.actor_id is not None:
                wanted.setdefault(User, set()).add(entry.actor_id)
            for key, model in DETAIL_REFERENCES.items():
                value = (entry.details or {}).get(key)
                if isinstance(value, int):
                    wanted.setdefault(model, set()).add(value)
        self._rows = {
            model: {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
            for model, ids in wanted.items()
        }

    def get(self, model, row_id):
        return self._rows.get(model, {}).get(row_id) if row_id is not None else None

    def object_of(self, entry):
        model = MODELS.get(entry.object_type)
        return self.get(model, entry.object_id) if model else None


class Sentence:
    """One entry read aloud: `Sentence(entry, things, timezone).text` and the actor's name apart."""

    def __init__(self, entry, things, timezone):
        self.entry, self.things, self.timezone = entry, things, timezone
        self.details = entry.details or {}
        self.obj = things.object_of(entry)
        actor = things.get(User, entry.actor_id)
        self.who = (
            actor.full_name
            if actor is not None
            else (_("The portal") if entry.actor_id is None else _("A former user"))
        )

    # --- names of things ------------------------------------------------------------------------

    def person(self, user_id):
        user = self.things.get(User, user_id)
        return user.full_name if user is not None else _("a former user")

    def workstation(self, workstation_id=None, fallback=None):
        workstation = self.things.get(Workstation, workstation_id) if workstation_id else None
        if workstation is None and isinstance(self.obj, Workstation):
            workstation = self.obj
        if workstation is None and isinstance(self.obj, Booking):
            workstation = self.obj.workstation
        return workstation.label if workstation is not None else fallback or _("a workstation")

    def room(self, room_id=None):
        room = self.things.get(Room, room_id) if room_id else None
        room = room or (self.obj if isinstance(self.obj, Room) else getattr(self.obj, "room", None))
        return room.name if room is not None else _("a room")

    def span(self, start=None, end=None):
        """The time of the entry's booking, session or closure, or of the ISO times its details kept."""
        if start is None and hasattr(self.obj, "start_at"):
            start, end = self.obj.start_at, self.obj.end_at
        if isinstance(start, str):
            start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
        return format_local_span(start, end, self.timezone) if start and end else _("an unknown time")

    def course_title(self):
        course = self.obj if isinstance(self.obj, Course) else None
        if isinstance(self.obj, TrainingSession):
            course = self.obj.course
        if isinstance(self.obj, Enrolment):
            course = self.obj.session.course
        if course is None:
            course = self.things.get(Course, self.details.get("course_id"))
        return course.title if course is not None else self.details.get("title") or _("a course")

    def equipment(self, item=None):
        item = item or self.obj
        if not isinstance(item, EquipmentItem):
            return _("an item (inventory number %(number)s)", number=self.details.get("inventory_number") or "—")
        return f"{kind_label(item.kind)} {item.inventory_number}"

    def problem_target(self):
        report = self.obj
        if not isinstance(report, ProblemReport):
            return _("a workstation or an item")
        parts = [report.workstation.label] if report.workstation is not None else []
        if report.equipment is not None:
            parts.append(self.equipment(report.equipment))
        return " / ".join(parts) or _("a workstation or an item")

    def session_time(self):
        session = self.obj.session if isinstance(self.obj, Enrolment) else self.obj
        if isinstance(session, TrainingSession):
            return self.span(session.start_at, session.end_at)
        return self.span(self.details.get("start"), self.details.get("end"))

    # --- the sentence -----------------------------------------------------------------------------

    @property
    def text(self):
        write = getattr(self, "_" + self.entry.action.replace(".", "_"), None)
        if write is None:
            return _("%(who)s made a change (%(action)s).", who=self.who, action=self.entry.action)
        return write()

    def _with_reason(self, text, reason):
        return _("%(text)s Reason: %(reason)s.", text=text, reason=reason) if reason else text

    # bookings

    def _booking_created(self):
        owner_id = self.details.get("user_id")
        when = self.span(self.details.get("start"), self.details.get("end"))
        workstation = self.workstation(self.details.get("workstation_id"))
        if owner_id is not None and owner_id != self.entry.actor_id:
            return _(
                "%(who)s booked %(workstation)s for %(owner)s, %(when)s.",
                who=self.who,
                workstation=workstation,
                owner=self.person(owner_id),
                when=when,
            )
        return _("%(who)s booked %(workstation)s for %(when)s.", who=self.who, workstation=workstation, when=when)

    def _booking_refused(self):
        return _(
            "%(who)s tried to book %(workstation)s for %(when)s; the portal refused.",
            who=self.who,
            workstation=self.workstation(self.details.get("workstation_id")),
            when=self.span(self.details.get("start"), self.details.get("end")),
        )

    def _booking_cancelled(self):
        owner_id = self.details.get("user_id")
        if owner_id is not None and owner_id == self.entry.actor_id:
            text = _(
                "%(who)s cancelled their booking of %(workstation)s for %(when)s.",
                who=self.who,
                workstation=self.workstation(),
                when=self.span(),
            )
        else:
            text = _(
                "%(who)s cancelled the booking of %(workstation)s by %(owner)s for %(when)s.",
                who=self.who,
                workstation=self.workstation(),
                owner=self.person(owner_id),
                when=self.span(),
            )
        return self._with_reason(text, self.details.get("reason"))

    def _booking_checked_in(self):
        return _(
            "%(who)s checked in at %(workstation)s (booking for %(when)s).",
            who=self.who,
            workstation=self.workstation(),
            when=self.span(),
        )

    def _booking_moved(self):
        owner = self.obj.user_id if isinstance(self.obj, Booking) else None
        return _(
            "%(who)s moved the booking of %(owner)s for %(when)s from %(old)s to %(new)s.",
            who=self.who,
            owner=self.person(owner),
            when=self.span(),
            old=self.workstation(self.details.get("from_workstation_id")),
            new=self.workstation(self.details.get("to_workstation_id")),
        )

    def _booking_no_show(self):
        return _(
            "%(owner)s did not check in at %(workstation)s for %(when)s; the booking was released.",
            owner=self.person(self.details.get("user_id")),
            workstation=self.workstation(),
            when=self.span(),
        )

    # sign-ins and accounts

    def _sign_in(self):
        if self.details.get("via") == "city":
            return _("%(who)s signed in with the city account.", who=self.who)
        return _("%(who)s signed in.", who=self.who)

    def _account(self):
        return self.details.get("email") or (self.who if self.entry.actor_id else _("an unknown account"))

    def _sign_in_failed(self):
        if self.details.get("via") == "city":
            return _("A sign-in with the city account failed.")
        return _(
            "A sign-in as %(account)s failed: wrong e-mail or password, or the account is switched off.",
            account=self._account(),
        )

    def _sign_in_refused(self):
        if self.details.get("via") == "city":
            return _("A sign-in with the city account was refused.")
        return _("A sign-in as %(account)s was refused.", account=self._account())

    def _sign_in_refused_locked(self):
        return _("A sign-in as %(account)s was refused: too many failed attempts.", account=self._account())

    def _password_changed(self):
        return _("%(who)s changed their password.", who=self.who)

    def _user(self):
        return self.obj.full_name if isinstance(self.obj, User) else _("a former user")

    def _roles(self, roles):
        return ", ".join(str(ROLE_LABELS.get(role, role)) for role in roles or ()) or "—"

    def _user_created(self):
        return _(
            "%(who)s created the account of %(user)s (%(roles)s).",
            who=self.who,
            user=self._user(),
            roles=self._roles(self.details.get("roles")),
        )

    def _user_activated(self):
        return _("%(who)s switched on the account of %(user)s.", who=self.who, user=self._user())

    def _user_deactivated(self):
        return _("%(who)s switched off the account of %(user)s.", who=self.who, user=self._user())

    def _user_roles_changed(self):
        return _(
            "%(who)s changed the roles of %(user)s: %(before)s → %(after)s.",
            who=self.who,
            user=self._user(),
            before=self._roles(self.details.get("before")),
            after=self._roles(self.details.get("after")),
        )

    def _user_moved_clinic(self):
        return _("%(who)s joined this polyclinic through the city account.", who=self.who)

    def _city_account_linked(self):
        return _("%(who)s linked the city account.", who=self.who)

    def _api_token_created(self):
        return _("%(who)s created an API token.", who=self.who)

    def _api_token_revoked(self):
        return _("%(who)s revoked an API token.", who=self.who)

    def _calendar_link_created(self):
        return _("%(who)s created a calendar feed link.", who=self.who)

    def _calendar_link_revoked(self):
        return _("%(who)s revoked the calendar feed link.", who=self.who)

    # clinics, rooms, workstations, closures

    def _clinic(self):
        return self.obj.name if isinstance(self.obj, Clinic) else _("a polyclinic")

    def _clinic_created(self):
        return _("%(who)s created the polyclinic %(clinic)s.", who=self.who, clinic=self._clinic())

    def _clinic_updated(self):
        return _("%(who)s edited the details of %(clinic)s.", who=self.who, clinic=self._clinic())

    def _clinic_activated(self):
        return _("%(who)s opened the portal to %(clinic)s.", who=self.who, clinic=self._clinic())

    def _clinic_deactivated(self):
        return _("%(who)s closed the portal to %(clinic)s.", who=self.who, clinic=self._clinic())

    def _room_created(self):
        return _("%(who)s created the room %(room)s.", who=self.who, room=self.room())

    def _room_updated(self):
        return _("%(who)s edited the room %(room)s.", who=self.who, room=self.room())

    def _room_activated(self):
        return _("%(who)s opened %(room)s for bookings.", who=self.who, room=self.room())

    def _room_deactivated(self):
        return _("%(who)s withdrew %(room)s from bookings.", who=self.who, room=self.room())

    def _room_hours_changed(self):
        return _("%(who)s changed the opening hours of %(room)s.", who=self.who, room=self.room())

    def _room_policy_changed(self):
        return _("%(who)s changed the booking rules of %(room)s.", who=self.who, room=self.room())

    def _display_link_created(self):
        return _("%(who)s created a door display link for %(room)s.", who=self.who, room=self.room())

    def _closure_added(self):
        text = _(
            "%(who)s closed %(room)s for %(when)s.",
            who=self.who,
            room=self.room(self.details.get("room_id")),
            when=self.span(self.details.get("start"), self.details.get("end")),
        )
        return self._with_reason(text, self.details.get("reason"))

    def _closure_removed(self):
        return _(
            "%(who)s removed the closure of %(room)s for %(when)s.",
            who=self.who,
            room=self.room(self.details.get("room_id")),
            when=self.span(self.details.get("start"), self.details.get("end")),
        )

    def _workstation_created(self):
        return _(
            "%(who)s added the workstation %(workstation)s to %(room)s.",
            who=self.who,
            workstation=self.workstation(fallback=self.details.get("label")),
            room=self.room(self.details.get("room_id")),
        )

    def _workstation_updated(self):
        return _(
            "%(who)s renamed a workstation to %(workstation)s.",
            who=self.who,
            workstation=self.details.get("label") or self.workstation(),
        )

    def _workstation_status_changed(self):
        text = _(
            "%(who)s set the status of %(workstation)s to “%(status)s”.",
            who=self.who,
            workstation=self.workstation(),
            status=status_label(self.details.get("to")),
        )
        moved, cancelled = self.details.get("moved") or 0, self.details.get("cancelled") or 0
        if moved or cancelled:
            text = _(
                "%(text)s Bookings moved: %(moved)d, cancelled: %(cancelled)d.",
                text=text,
                moved=moved,
                cancelled=cancelled,
            )
        return text

    # equipment and problem reports

    def _equipment_created(self):
        return _(
            "%(who)s added %(item)s to the inventory of %(room)s.",
            who=self.who,
            item=self.equipment(),
            room=self.room(self.details.get("room_id")),
        )

    def _equipment_updated(self):
        before, after = self.details.get("from"), self.details.get("to")
        if before != after:
            text = _(
                "%(who)s set the status of %(item)s to “%(status)s”.",
                who=self.who,
                item=self.equipment(),
                status=status_label(after),
            )
        else:
            text = _("%(who)s updated the notes on %(item)s.", who=self.who, item=self.equipment())
        note = self.details.get("note")
        return _("%(text)s Note: %(note)s.", text=text, note=note) if note else text

    def _problem_reported(self):
        return _("%(who)s reported a problem with %(target)s.", who=self.who, target=self.problem_target())

    def _problem_report_status_changed(self):
        return _(
            "%(who)s set the problem report on %(target)s to “%(status)s”.",
            who=self.who,
            target=self.problem_target(),
            status=status_label(self.details.get("to")),
        )

    # trainings

    def _course_created(self):
        return _("%(who)s created the course “%(title)s”.", who=self.who, title=self.course_title())

    def _course_updated(self):
        return _("%(who)s edited the course “%(title)s”.", who=self.who, title=self.course_title())

    def _course_cancelled(self):
        text = _("%(who)s cancelled the course “%(title)s”.", who=self.who, title=self.course_title())
        return self._with_reason(text, self.details.get("reason"))

    def _training_session_scheduled(self):
        return _(
            "%(who)s scheduled a session of “%(title)s” in %(room)s for %(when)s.",
            who=self.who,
            title=self.course_title(),
            room=self.room(),
            when=self.session_time(),
        )

    def _training_session_updated(self):
        return _(
            "%(who)s changed the session of “%(title)s”; it is now %(when)s in %(room)s.",
            who=self.who,
            title=self.course_title(),
            when=self.session_time(),
            room=self.room(),
        )

    def _training_session_cancelled(self):
        text = _(
            "%(who)s cancelled the session of “%(title)s” for %(when)s.",
            who=self.who,
            title=self.course_title(),
            when=self.session_time(),
        )
        return self._with_reason(text, self.details.get("reason"))

    def _attendance_marked(self):
        values = {
            "who": self.who,
            "doctor": self.person(self.details.get("user_id")),
            "title": self.course_title(),
            "when": self.session_time(),
        }
        if self.details.get("attended"):
            return _("%(who)s marked %(doctor)s present at “%(title)s”, %(when)s.", **values)
        return _("%(who)s marked %(doctor)s absent from “%(title)s”, %(when)s.", **values)

    # scientific databases and privacy

    def _search_sources_linked(self):
        names = ", ".join(str(SOURCE_LABELS.get(name, name)) for name in self.details.get("sources") or ()) or "—"
        return _("%(who)s chose the databases the clinic searches: %(sources)s.", who=self.who, sources=names)

    def _search_link_prefix_set(self):
        return _("%(who)s set the library's link prefix.", who=self.who)

    def _search_resource_added(self):
        return _("%(who)s added the resource “%(name)s”.", who=self.who, name=self.details.get("name") or "—")

    def _search_resource_deleted(self):
        return _("%(who)s removed the resource “%(name)s”.", who=self.who, name=self.details.get("name") or "—")

    def _search_guidelines_loaded(self):
        return _("%(who)s updated the portal's copy of the clinical guidelines.", who=self.who)

    def _history_anonymised(self):
        return _(
            "The portal removed the names from %(count)d bookings older than %(days)d days.",
            count=self.details.get("bookings") or 0,
            days=self.details.get("older_than_days") or 0,
        )


def sentences(entries, timezone):
    """[(entry, sentence)] for a page of entries, the times in the clinic's `timezone`."""
    things = Things(entries)
    return [(entry, Sentence(entry, things, timezone)) for entry in entries]
