"""Forms of the attendee pages: edit details, change sessions, and one-button actions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional

from ..services.validation import EMAIL_MAX, NAME_MAX, ORGANISATION_MAX


class AttendeeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    organisation = StringField(
        _l("Organisation"), validators=[Optional(), Length(max=ORGANISATION_MAX)]
    )


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SessionsForm(FlaskForm):
    """The attendee's sessions: ticked ones are kept or added, unticked ones dropped."""

    sessions = CheckboxListField(_l("Sessions"), coerce=int, validate_choice=True)
    waitlist = BooleanField(_l("Put them on the waiting list of a full session"))
    override_capacity = BooleanField(_l("Admin: book a full session anyway (adds a seat; logged)"))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class PromoteForm(FlaskForm):
    override_capacity = BooleanField(_l("Over capacity (admin)"))
