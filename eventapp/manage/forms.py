"""Forms of the private page: session choices, personal details, and confirmations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..i18n import in_reader_language
from ..services.programme.reading import Round
from ..services.validation import EMAIL_MAX, NAME_MAX, ORGANISATION_MAX
from ..web.fields import (
    NO_WORKSHOP,
    CheckboxListField,
    SessionChoiceMixin,
    add_round_fields,
    strip,
)
from ..web.question_fields import QuestionsMixin, add_question_fields

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


class ConfirmForm(FlaskForm):
    """A button that does something irreversible; the form only carries the CSRF token."""


class DetailsForm(FlaskForm):
    name = StringField(
        _l("Name"), filters=[strip], validators=[DataRequired(), Length(max=NAME_MAX)]
    )
    organisation = StringField(
        _l("Organisation (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=ORGANISATION_MAX)],
    )
    locale = SelectField(_l("Language of our emails"), validate_choice=True)


def details_form_for(attendee, languages, **kwargs) -> DetailsForm:
    form = DetailsForm(**kwargs)
    form.locale.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in languages]
    if not form.is_submitted():
        form.name.data = attendee.name
        form.organisation.data = attendee.organisation
        form.locale.data = attendee.locale
    return form


class SessionsForm(SessionChoiceMixin, FlaskForm):
    plenary = CheckboxListField(_l("Plenary sessions"), coerce=int, validate_choice=True)
    waitlist = BooleanField(
        _l(
            "If a session I add is full, put me on its waiting list "
            "(without this, a full choice changes nothing)"
        )
    )


def sessions_form_for(
    plenaries, rounds: list[Round], current_ids: set[int], **kwargs
) -> SessionsForm:
    """The attendee's choices as a form: the plenary sessions, and one choice per round,
    pre-filled with what they hold now (seat, waiting-list place or offer)."""

    class AttendeeSessionsForm(SessionsForm):
        pass

    add_round_fields(AttendeeSessionsForm, rounds, lambda s: in_reader_language(s, "title"))
    form = AttendeeSessionsForm(**kwargs)
    form.plenary.choices = [(s.id, in_reader_language(s, "title")) for s in plenaries]
    if not form.is_submitted():
        form.plenary.data = [s.id for s in plenaries if s.id in current_ids]
        for field, workshop_round in zip(form.round_fields(), rounds, strict=True):
            held = [s.id for s in workshop_round.sessions if s.id in current_ids]
            field.data = str(held[0]) if held else NO_WORKSHOP
    return form


NO_FALLBACK = ""


class FallbackForm(FlaskForm):
    """On a waiting-list place for a full workshop: the workshop of that round whose seat the
    attendee keeps meanwhile (services/registration/fallback.py), or none."""

    fallback = SelectField(_l("While you wait, keep a place in"), validate_choice=True)


def fallback_form_for(registration, workshop_round: Round, **kwargs) -> FallbackForm:
    """The choices: the round's other workshops with places left, and the one kept now."""
    form = FallbackForm(prefix=f"fallback-{registration.session_id}", **kwargs)
    kept = registration.fallback_session_id
    options = [
        s
        for s in workshop_round.sessions
        if s.id != registration.session_id and s.registrable and (not s.is_full or s.id == kept)
    ]
    form.fallback.choices = [(NO_FALLBACK, str(_l("No other workshop")))] + [
        (str(s.id), in_reader_language(s, "title")) for s in options
    ]
    if not form.is_submitted():
        form.fallback.data = str(kept) if kept else NO_FALLBACK
    return form


class AnswersForm(QuestionsMixin, FlaskForm):
    """The attendee's answers to the event's registration questions."""


def answers_form_for(questions, current: dict, **kwargs) -> AnswersForm:
    """One field per question, showing the answers given ({question key: value})."""

    class EventAnswersForm(AnswersForm):
        pass

    add_question_fields(EventAnswersForm, questions)
    form = EventAnswersForm(**kwargs)
    if not form.is_submitted():
        form.fill_answers(current)
    return form


class LostLinkForm(FlaskForm):
    email = EmailField(
        _l("Email address you registered with"),
        filters=[strip],
        validators=[DataRequired(), Email(), Length(max=EMAIL_MAX)],
    )


class EmailChangeForm(FlaskForm):
    new_email = EmailField(
        _l("New email address"),
        filters=[strip],
        validators=[DataRequired(), Email(), Length(max=EMAIL_MAX)],
    )
