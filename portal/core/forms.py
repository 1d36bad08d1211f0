"""Form handling shared by every feature's pages: posted forms and one-click buttons.

Both end a failed action the same way: the request's changes are rolled back
(portal.core.transaction) and the rule's message is shown; a successful one
is committed once when the request ends.
"""

from flask import abort, flash, redirect
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DateTimeLocalField

from portal.core import transaction
from portal.core.errors import DomainError
from portal.core.time import parse_day, parse_local_time


class _ReadByCoreTime:
    """A date field read by the parser of portal.core.time that every API and page input goes through."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = self.parse(" ".join(valuelist))
            if self.data is None:
                raise ValueError(self.refusal)


class DayField(_ReadByCoreTime, DateField):
    """A date as browsers send it (YYYY-MM-DD), in the years 2000–2100."""

    parse = staticmethod(parse_day)
    refusal = _l("Enter a date between the years 2000 and 2100.")


class LocalTimeField(_ReadByCoreTime, DateTimeLocalField):
    """A wall-clock date and time (YYYY-MM-DDTHH:MM), in the years 2000–2100."""

    parse = staticmethod(parse_local_time)
    refusal = _l("Enter a date and time between the years 2000 and 2100.")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


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


def _value(value_or_function, result):
    return value_or_function(result) if callable(value_or_function) else value_or_function


def submit(form, action, *, success_message, redirect_to, on_error=show_error):
    """Run `action()` for a valid posted `form` and answer a redirect, or None to show the form again.

    On success: flash `success_message` and redirect to `redirect_to`; either may be a function of
    what `action` returned (e.g. the new object). On a DomainError: roll back and show it with
    `on_error(form, error)`. None also when the form was not posted or is invalid.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except DomainError as error:
        transaction.roll_back()
        on_error(form, error)
        return None
    flash(_value(success_message, result), "success")
    return redirect(_value(redirect_to, result))


def run_action(action, *, success_message, redirect_to, form=None):
    """A one-click button: run `action()`, flash how it went and redirect.

    A post without a valid form (no CSRF token) is a 400. `success_message` may
    be a function of the result returning the text or (text, category); a
    DomainError rolls back and is flashed as an error. `redirect_to` may be a
    function of the result (None when the action failed).
    """
    if not (form or ActionForm()).validate_on_submit():
        abort(400)
    try:
        result = action()
    except DomainError as error:
        transaction.roll_back()
        flash(error.message, "error")
        return redirect(_value(redirect_to, None))
    message = _value(success_message, result)
    text, category = message if isinstance(message, tuple) else (message, "success")
    flash(text, category)
    return redirect(_value(redirect_to, result))
