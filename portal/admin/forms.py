"""Admin forms: they check the shape of the input; the services check the rules."""

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.clinics.labels import kind_label, status_label
from portal.clinics.models import EQUIPMENT_KINDS, EQUIPMENT_STATUSES, PROBLEM_STATUSES, WORKSTATION_STATUSES
from portal.core.forms import DayField, LocalTimeField
from portal.reports.audit_sentences import KINDS as AUDIT_KINDS

WEEKDAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
WEEKDAY_SHORT = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")


def _choices(values, label):
    return [SelectChoice(value, label(value)) for value in values]


class RoomForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the room's name.")), Length(max=120)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    capacity = IntegerField(
        _l("Training seats"), validators=[InputRequired(_l("Enter the number of training seats.")), NumberRange(0, 500)]
    )


class ClinicForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the clinic's name.")), Length(max=300)])
    short_name = StringField(_l("Short name"), validators=[DataRequired(_l("Enter a short name.")), Length(max=40)])
    code = StringField(
        _l("Code in the city's systems"),
        validators=[Optional(), Length(max=40)],
        description=_l("The city sign-in lets in the doctors whose polyclinic code is this one."),
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    timezone = StringField(
        _l("Time zone"), default="Europe/Moscow", validators=[DataRequired(_l("Enter the time zone.")), Length(max=64)]
    )

    def changes(self):
        return {name: self[name].data for name in ("name", "short_name", "code", "address", "timezone")}


class ImportClinicsForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose the file."))])
    dry_run = BooleanField(_l("Only show what would change"), default=True)


class PolicyForm(FlaskForm):
    slot_minutes = IntegerField(_l("Slot length, min"), validators=[InputRequired()])
    min_minutes = IntegerField(_l("Shortest booking, min"), validators=[InputRequired()])
    max_minutes = IntegerField(_l("Longest booking, min"), validators=[InputRequired()])
    horizon_days = IntegerField(_l("Book ahead, days"), validators=[InputRequired()])
    max_active = IntegerField(_l("Active bookings per doctor"), validators=[InputRequired()])
    max_daily_minutes = IntegerField(_l("Minutes per doctor per day"), validators=[InputRequired()])
    checkin_grace_minutes = IntegerField(_l("Check-in grace, min"), validators=[InputRequired()])

    def changes(self):
        return {name: self[name].data for name in self.data if name != "csrf_token"}


def parse_day_intervals(text):
    """Parse "08:00-13:00, 14:00-20:00" into [(time, time)]; a malformed interval raises ValueError."""
    intervals = []
    for chunk in filter(None, (part.strip() for part in re.split(r"[,;]", text or ""))):
        match = INTERVAL.match(chunk)
        try:
            opens, closes = (
                datetime.strptime(f"{match[first]}:{match[first + 1]}", "%H:%M").time() for first in (1, 3)
            )
        except (TypeError, ValueError):
            raise ValueError(chunk) from None
        intervals.append((opens, closes))
    return intervals


def _intervals_shape(form, field):
    try:
        parse_day_intervals(field.data)
    except ValueError as error:
        raise ValidationError(
            _l("Write intervals like 08:00-13:00, 14:00-20:00 (not “%(chunk)s”).", chunk=str(error))
        ) from None


class HoursForm(FlaskForm):
    """One line per weekday: its open intervals, comma separated; an empty line means closed."""

    day_0 = StringField(WEEKDAY_NAMES[0], validators=[_intervals_shape])
    day_1 = StringField(WEEKDAY_NAMES[1], validators=[_intervals_shape])
    day_2 = StringField(WEEKDAY_NAMES[2], validators=[_intervals_shape])
    day_3 = StringField(WEEKDAY_NAMES[3], validators=[_intervals_shape])
    day_4 = StringField(WEEKDAY_NAMES[4], validators=[_intervals_shape])
    day_5 = StringField(WEEKDAY_NAMES[5], validators=[_intervals_shape])
    day_6 = StringField(WEEKDAY_NAMES[6], validators=[_intervals_shape])

    def day_fields(self):
        return [self[f"day_{weekday}"] for weekday in range(7)]

    def intervals(self):
        return [
            (weekday, opens, closes)
            for weekday in range(7)
            for opens, closes in parse_day_intervals(self[f"day_{weekday}"].data)
        ]

    @classmethod
    def for_room(cls, room):
        lines = {weekday: [] for weekday in range(7)}
        for hours in room.opening_hours:
            lines[hours.weekday].append(f"{hours.opens:%H:%M}-{hours.closes:%H:%M}")
        return cls(formdata=None, data={f"day_{weekday}": ", ".join(lines[weekday]) for weekday in range(7)})


class ClosureForm(FlaskForm):
    start = LocalTimeField(_l("Starts"), validators=[InputRequired(_l("Enter when the closure starts."))])
    end = LocalTimeField(_l("Ends"), validators=[InputRequired(_l("Enter when the closure ends."))])
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=200)])
    # Sent by the confirmation button shown with the bookings and sessions the closure would cancel.
    cancel_affected = BooleanField(_l("Cancel them and add the closure"))


class HolidaysForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Enter the year."))])
    all_rooms = BooleanField(_l("For every room of the clinic"), default=True)
    cancel_affected = BooleanField(_l("Cancel them and add the holidays"))


class WorkstationsForm(FlaskForm):
    labels = StringField(
        _l("Labels"),
        validators=[DataRequired(_l("Enter at least one label.")), Length(max=400)],
        description=_l("One or several, comma separated: PC-1, PC-2, PC-3"),
    )
    specs = StringField(_l("Specs"), validators=[Optional(), Length(max=2000)])

    def label_list(self):
        return [label.strip() for label in self.labels.data.split(",") if label.strip()]


class WorkstationStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(WORKSTATION_STATUSES, status_label))


class EquipmentForm(FlaskForm):
    room_id = SelectField(_l("Room"), coerce=int)
    workstation_id = SelectField(_l("Workstation"), coerce=int)
    kind = SelectField(_l("Kind"), choices=_choices(EQUIPMENT_KINDS, kind_label))
    inventory_number = StringField(
        _l("Inventory number"), validators=[DataRequired(_l("Enter the inventory number.")), Length(max=60)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class EquipmentStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(EQUIPMENT_STATUSES, status_label))
    note = TextAreaField(_l("Note for the history"), validators=[Optional(), Length(max=2000)])


class ProblemStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(PROBLEM_STATUSES, status_label))
    resolution = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=2000)])


ROLE_CHOICES = [
    SelectChoice("doctor", _l("doctor")),
    SelectChoice("trainer", _l("trainer")),
    SelectChoice("admin", _l("administrator")),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter the e-mail.")), Length(max=254)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the full name.")), Length(max=200)])
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=ROLE_CHOICES,
        default=["doctor"],
        validators=[DataRequired(_l("Choose at least one role."))],
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(
        _l("Roles"), choices=ROLE_CHOICES, validators=[DataRequired(_l("Choose at least one role."))]
    )


class ActiveForm(FlaskForm):
    active = BooleanField()


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    clinic_id = SelectField(_l("Clinic"), coerce=int, validators=[Optional()])
    person = StringField(
        _l("Person"), validators=[Optional(), Length(max=200)], render_kw={"placeholder": _l("name or e-mail")}
    )
    thing = StringField(
        _l("Object"),
        validators=[Optional(), Length(max=200)],
        render_kw={"placeholder": _l("workstation, room, item, course…")},
    )
    kind = SelectField(
        _l("What"),
        validators=[Optional()],
        choices=[
            SelectChoice("", _l("Everything")),
            *(SelectChoice(key, label) for key, (label, _actions) in AUDIT_KINDS.items()),
        ],
    )
    date_from = DayField(_l("From"), validators=[Optional()])
    date_to = DayField(_l("To"), validators=[Optional()])
