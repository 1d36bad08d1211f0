from flask_wtf import FlaskForm
from wtforms import BooleanField


def email_preferences_form(user, kinds):
    """One checkbox per optional notification kind; checked = also by e-mail."""

    class EmailPreferencesForm(FlaskForm):
        pass

    for kind, label in kinds.items():
        setattr(EmailPreferencesForm, kind, BooleanField(label, default=user.wants_email(kind)))
    return EmailPreferencesForm()
