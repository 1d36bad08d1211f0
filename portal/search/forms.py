"""Search forms (shape only; the rules live in services.py)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.search.fanout import MAX_QUERY_LENGTH
from portal.search.providers.base import EARLIEST_YEAR, LATEST_YEAR


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SearchForm(FlaskForm):
    """Read-only GET form: a search changes nothing a user owns, and a link to
    a search must work, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), render_kw={"maxlength": MAX_QUERY_LENGTH})
    sources = CheckboxesField(_l("Sources"))
    year_from = IntegerField(_l("From year"), validators=[Optional(), NumberRange(EARLIEST_YEAR, LATEST_YEAR)])
    year_to = IntegerField(_l("To year"), validators=[Optional(), NumberRange(EARLIEST_YEAR, LATEST_YEAR)])
    open_access = BooleanField(_l("Open access only"))
    # The clinical guidelines' own filters.
    age_group = SelectField(
        _l("Guidelines for"),
        default="",
        choices=[
            SelectChoice("", _l("children and adults")),
            SelectChoice("children", _l("children")),
            SelectChoice("adults", _l("adults")),
        ],
    )
    current_only = BooleanField(_l("Only guidelines that apply now"))
    page = IntegerField(default=1, validators=[Optional(), NumberRange(1, 1000)])


class SaveReferenceForm(FlaskForm):
    """One result, as shown, carried back to be kept on the reading list."""

    title = HiddenField(validators=[DataRequired(), Length(max=2000)])
    authors = HiddenField(validators=[Length(max=20000)])  # JSON list
    journal = HiddenField(validators=[Length(max=500)])
    year = HiddenField(validators=[Length(max=4)])
    doi = HiddenField(validators=[Length(max=255)])
    pmid = HiddenField(validators=[Length(max=10)])
    url = HiddenField(validators=[Length(max=1000)])
    source = HiddenField(validators=[Length(max=20)])
    source_id = HiddenField(validators=[Length(max=200)])
    next = HiddenField()


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])


class SourcesForm(FlaskForm):
    sources = CheckboxesField(_l("Linked sources"))


class LinkPrefixForm(FlaskForm):
    link_prefix = StringField(_l("Library proxy link prefix"), validators=[Length(max=500)])


class ResourceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    url = StringField(_l("Address"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    access_note = StringField(_l("Access note"), validators=[Length(max=500)])


class GuidelinesFileForm(FlaskForm):
    """A saved answer of the rubricator's list call, to load the guidelines catalogue from."""

    file = FileField(_l("Saved list of clinical guidelines (JSON)"), validators=[FileRequired()])
