"""Forms of the attendee pages: edit details, change sessions, and one-button actions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional

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


BULK_ACTIONS = ("message", "cancel", "move", "resend")


class BulkForm(FlaskForm):
    """The attendee list's bulk bar: the ticked attendees (or all the filter matches) and
    what to do with them. The list's filter travels along in plain hidden fields."""

    attendee = SelectMultipleField(coerce=int, validate_choice=False)
    scope = RadioField(
        _l("Apply to"),
        choices=[("ticked", _l("The ticked attendees")), ("matching", _l("All matching"))],
        default="ticked",
    )
    move_to = SelectField(_l("Session"), coerce=int, validate_choice=False, default=0)
    action = StringField(validators=[DataRequired(), AnyOf(BULK_ACTIONS)])


class ConfirmCancelForm(FlaskForm):
    """The confirmation step of a bulk cancel: exactly these attendees, this many."""

    attendee = SelectMultipleField(coerce=int, validate_choice=False)
    expected_count = IntegerField(validators=[DataRequired()])
