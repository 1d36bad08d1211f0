"""Forms of the training pages. They check shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import DayField

CUSTOM_DURATION = "custom"


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter the course title.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    academic_hours = DecimalField(
        _l("Academic hours (45 minutes each)"),
        places=1,
        default=1,
        validators=[InputRequired(_l("Enter the academic hours."))],
    )
    nmo_id = StringField(
        _l("CME accreditation id"),
        validators=[Optional(), Length(max=60)],
        description=_l("Leave empty if the course is not accredited for CME."),
    )


class SessionTimesForm(FlaskForm):
    """When and where a session takes place, and its seats: shared by scheduling and editing."""

    room_id = SelectField(_l("Room"), coerce=int, validators=[InputRequired(_l("Choose a room."))])
    day = DayField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    start_time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time."))])
    end_time = TimeField(
        _l("End time"),
        validators=[Optional()],
        description=_l("Empty: as long as the course (1 academic hour = 45 minutes)."),
    )
    capacity = IntegerField(
        _l("Seats"), validators=[InputRequired(_l("Enter the number of seats.")), NumberRange(min=1, max=500)]
    )
    cancel_conflicting_bookings = BooleanField(
        _l("Cancel the bookings in the way and notify their doctors (administrators only)")
    )


class SessionForm(SessionTimesForm):
    course_id = SelectField(_l("Course"), coerce=int, validators=[InputRequired(_l("Choose a course."))])
    whole_room = BooleanField(_l("Takes the whole room (no workstation can be booked meanwhile)"))
    weeks = IntegerField(
        _l("Repeat weekly, number of weeks (1 = a single session)"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=26)],
    )


class SessionEditForm(SessionTimesForm):
    trainer_id = SelectField(_l("Trainer"), coerce=int, validators=[InputRequired(_l("Choose a trainer."))])
    move_to_waitlist = BooleanField(_l("Return the doctors seated last to the head of the waitlist"))


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason (sent to the participants)"), validators=[Optional(), Length(max=300)])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    first_day = DayField(_l("From"), validators=[Optional()])
    last_day = DayField(_l("To"), validators=[Optional()])


class CatalogueFilterForm(PeriodForm):
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=100)])
