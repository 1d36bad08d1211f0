"""The doctor's short problem-report form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.clinics.labels import kind_label


class ProblemReportForm(FlaskForm):
    # "workstation:<id>" or "equipment:<id>": one list, so reporting stays a single choice.
    target = SelectField(_l("What has the problem"), validators=[DataRequired(_l("Choose what has the problem."))])
    description = TextAreaField(
        _l("What is wrong"), validators=[DataRequired(_l("Describe the problem.")), Length(max=2000)]
    )

    def set_choices(self, room, items):
        self.target.choices = (
            [SelectChoice("", "—")]
            + [SelectChoice(f"workstation:{ws.id}", ws.label) for ws in room.workstations if ws.status != "retired"]
            + [
                SelectChoice(
                    f"equipment:{item.id}",
                    f"{kind_label(item.kind)} {item.inventory_number}"
                    + (f" ({item.workstation.label})" if item.workstation else ""),
                )
                for item in items
                if item.status != "retired"
            ]
        )
