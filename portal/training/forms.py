"""Forms of the training pages. They check shape only; the services check the rules."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from portal.core.forms import DayField

CUSTOM_DURATION = "custom"


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter the course title.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    academic_hours = DecimalField(_l("Academic hours (45 minutes each)"), places=1, default=1,
                                  validators=[InputRequired(_l("Enter the academic hours."))])
    nmo_id = StringField(_l("НМО accreditation id"), validators=[Optional(), Length(max=60)],
                         description=_l("Leave empty if the course is not accredited for НМО."))


class SessionForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=int, validators=[InputRequired(_l("Choose a course."))])
    room_id = SelectField(_l("Room"), coerce=int, validators=[InputRequired(_l("Choose a room."))])
    day = DayField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    start_time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time."))])
    duration = SelectField(_l("Length"), default="45", choices=[
        SelectChoice("45", _l("45 minutes (1 academic hour)")), SelectChoice("90", _l("90 minutes (2 academic hours)")),
        SelectChoice(CUSTOM_DURATION, _l("Other: until the end time below"))])
    end_time = TimeField(_l("End time (for another length)"), validators=[Optional()])
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(_l("Enter the number of seats.")),
                                                     NumberRange(min=1, max=500)])
    whole_room = BooleanField(_l("Takes the whole room (no workstation can be booked meanwhile)"))
    weeks = IntegerField(_l("Repeat weekly, number of weeks (1 = a single session)"), default=1,
                         validators=[InputRequired(), NumberRange(min=1, max=26)])
    cancel_conflicting_bookings = BooleanField(
        _l("Cancel the bookings in the way and notify their doctors (administrators only)"))


class CancelSessionForm(FlaskForm):
    reason = StringField(_l("Reason (sent to the participants)"), validators=[Optional(), Length(max=300)])



class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    first_day = DayField(_l("From"), validators=[Optional()])
    last_day = DayField(_l("To"), validators=[Optional()])


class CatalogueFilterForm(PeriodForm):
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=100)])
