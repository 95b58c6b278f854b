"""The registration form, built per event: the plenary sessions and one choice per round.

The privacy notice and consent record (web/consent.py) and the round fields (web/fields.py)
are shared with the API and the attendee's private page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..services.programme.reading import Round
from ..services.validation import EMAIL_MAX, JOB_ROLE_MAX, NAME_MAX, ORGANISATION_MAX
from ..web.consent import CONSENT_LABEL
from ..web.fields import (
    CheckboxListField,
    RankingMixin,
    SessionChoiceMixin,
    add_rank_fields,
    add_round_fields,
    strip,
)
from ..web.question_fields import QuestionsMixin, add_question_fields
from .fallback_fields import add_fallback_fields


class RegistrationForm(SessionChoiceMixin, RankingMixin, QuestionsMixin, FlaskForm):
    name = StringField(
        _l("Name"), filters=[strip], validators=[DataRequired(), Length(max=NAME_MAX)]
    )
    email = EmailField(
        _l("Email"), filters=[strip], validators=[DataRequired(), Email(), Length(max=EMAIL_MAX)]
    )
    organisation = StringField(
        _l("Organisation (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=ORGANISATION_MAX)],
    )
    job_role = StringField(
        _l("Job role (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=JOB_ROLE_MAX)],
    )
    plenary = CheckboxListField(_l("Plenary sessions"), coerce=int, validate_choice=True)
    waitlist = BooleanField(_l("If a session is full, put me on its waiting list"))
    consent = BooleanField(
        CONSENT_LABEL,
        validators=[DataRequired(_l("Please agree to the processing of your data to register."))],
    )
    # Bot checks (public/bot_checks.py): a field people never see, and when the form was served.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    started = HiddenField()


def registration_form_for(
    plenaries, rounds: list[Round], label_for, *, ranked: bool = False, questions=(), **kwargs
) -> RegistrationForm:
    """A form class with one radio group per round; "none" is always a choice. With `ranked`
    (an event collecting preferences) each round asks for a ranking instead. One field per
    registration question."""

    class EventRegistrationForm(RegistrationForm):
        pass

    if ranked:
        add_rank_fields(EventRegistrationForm, rounds, label_for)
    else:
        add_round_fields(EventRegistrationForm, rounds, label_for)
        add_fallback_fields(EventRegistrationForm, rounds)
    add_question_fields(EventRegistrationForm, questions)
    form = EventRegistrationForm(**kwargs)
    form.plenary.choices = [(s.id, label_for(s)) for s in plenaries]
    if not form.is_submitted():
        form.plenary.data = [s.id for s in plenaries if not s.is_full]
    return form
