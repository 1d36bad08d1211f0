"""Booking forms (shape only; the rules live in services.py)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.core.forms import DayField


class BookingForm(FlaskForm):
    workstation_id = SelectField(_l("Workstation"), coerce=int, validators=[InputRequired(_l("Choose a workstation."))])
    day = DayField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    start = TimeField(_l("From"), validators=[DataRequired(_l("Choose the start time."))])
    end = TimeField(_l("Until"), validators=[DataRequired(_l("Choose the end time."))])


class BookNowForm(FlaskForm):
    minutes = SelectField(
        _l("For"), coerce=int, choices=[SelectChoice(30, _l("30 minutes")), SelectChoice(60, _l("60 minutes"))]
    )


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=300)])
    next = HiddenField()
    # Only the confirmation page has this button: every other cancel button leads to that page.
    confirm = SubmitField(_l("Yes, cancel the booking"))
