from flask import flash, redirect
from flask_wtf import FlaskForm
from wtforms import BooleanField

from portal.core.errors import DomainError
from portal.extensions import db


def email_preferences_form(user, kinds):
    """One checkbox per optional notification kind; checked = also by e-mail."""

    class EmailPreferencesForm(FlaskForm):
        pass

    for kind, label in kinds.items():
        setattr(EmailPreferencesForm, kind, BooleanField(label, default=user.wants_email(kind)))
    return EmailPreferencesForm()


def show_error(form, error):
    """Put a service's error next to the field it names, or above the form."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = list(target.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def submit(form, action, *, success_message, redirect_to, on_error=show_error):
    """Run `action()` for a valid posted `form` and answer a redirect, or None to show the form again.

    On success: commit, flash `success_message` and redirect to `redirect_to`; either may be a
    function of what `action` returned (e.g. the new object). On a DomainError: roll back and
    show it with `on_error(form, error)`. None also when the form was not posted or is invalid.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        on_error(form, error)
        return None
    db.session.commit()
    flash(success_message(result) if callable(success_message) else success_message, "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
