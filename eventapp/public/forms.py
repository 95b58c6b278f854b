"""The registration form, built per event: the plenary sessions and one choice per round."""

import functools

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..services.programme.reading import Round
from ..services.validation import EMAIL_MAX, JOB_ROLE_MAX, NAME_MAX, ORGANISATION_MAX
from .fallback_fields import add_fallback_fields

NO_WORKSHOP = ""
CONSENT_VERSION = "2026-11"

# What the form says is stored and why. Its text is also what the attendee's consent
# records, so the record says exactly what they agreed to, in the language they read it in.
PRIVACY_NOTICE = _l(
    "We store your name, email address, organisation, job role and session choices to "
    "organise this event: to keep your seats, send you confirmations and programme changes, "
    "and check you in. We do not share them. You can download or delete your data from your "
    "personal page at any time."
)
CONSENT_LABEL = _l("I agree that my data is processed to organise this event, as described above.")


def consent_record(channel: str, locale: str) -> str:
    """The consent as recorded: version, channel, language and the words agreed to."""
    return f"{CONSENT_VERSION} {channel} [{locale}]: {_consent_words(locale)}"


@functools.cache
def _consent_words(locale: str) -> str:
    """The notice and the checkbox label in `locale`, whatever language the request is in
    (an API client says which language the attendee reads). The catalogs do not change
    while the process runs, so each language is rendered once."""
    with force_locale(locale):
        return f"{PRIVACY_NOTICE} {CONSENT_LABEL}"


def strip(value):
    return value.strip() if isinstance(value, str) else value


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RankingMixin:
    """Per-round 1st/2nd/3rd choice selects, added by _add_rank_fields (preference mode)."""

    _rank_groups: list = []  # (round key, [field names, 1st choice first])

    def rank_groups(self):
        return [(key, [self[name] for name in names]) for key, names in self._rank_groups]

    def ranked_preferences(self) -> dict[str, list[int]]:
        """{round key: [workshop ids, best first]}; blanks ("none is fine") left out."""
        ranked = {}
        for key, fields in self.rank_groups():
            ids = [int(f.data) for f in fields if f.data and f.data != NO_WORKSHOP]
            if ids:
                ranked[key] = ids
        return ranked


class PreferencesForm(RankingMixin, FlaskForm):
    """The manage page's form to change one's ranking until the allocation."""


def preferences_form_for(rounds: list[Round], label_for, ranked: dict, **kwargs):
    class EventPreferencesForm(PreferencesForm):
        pass

    _add_rank_fields(EventPreferencesForm, rounds, label_for)
    form = EventPreferencesForm(**kwargs)
    if not form.is_submitted():
        for key, fields in form.rank_groups():
            for f, session_id in zip(fields, ranked.get(key, []), strict=False):
                f.data = str(session_id)
    return form


class RegistrationForm(RankingMixin, FlaskForm):
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

    def round_fields(self):
        return [self[name] for name in self._round_names]

    def chosen_session_ids(self) -> list[int]:
        ids = list(self.plenary.data or [])
        for field in self.round_fields():
            if field.data and field.data != NO_WORKSHOP:
                ids.append(int(field.data))
        return ids


RANK_LABELS = (_l("1st choice"), _l("2nd choice"), _l("3rd choice"))


def _add_rank_fields(form_class, rounds: list[Round], label_for) -> None:
    """Preference mode: per round a 1st, 2nd and 3rd choice select ("none is fine" blank)."""
    groups = []
    for workshop_round in rounds:
        names = []
        choices = [(NO_WORKSHOP, str(_l("None is fine")))] + [
            (str(s.id), label_for(s)) for s in workshop_round.sessions
        ]
        for rank, label in enumerate(RANK_LABELS[: len(workshop_round.sessions)], start=1):
            name = f"rank_{workshop_round.key}_{rank}"
            setattr(
                form_class,
                name,
                SelectField(label, choices=choices, default=NO_WORKSHOP, validators=[Optional()]),
            )
            names.append(name)
        groups.append((workshop_round.key, names))
    form_class._rank_groups = groups
    form_class._round_names = []


def registration_form_for(
    plenaries, rounds: list[Round], label_for, *, ranked: bool = False, **kwargs
) -> RegistrationForm:
    """A form class with one radio group per round; "none" is always a choice. With `ranked`
    (an event collecting preferences) each round asks for a ranking instead."""

    class EventRegistrationForm(RegistrationForm):
        pass

    if ranked:
        _add_rank_fields(EventRegistrationForm, rounds, label_for)
    else:
        add_round_fields(EventRegistrationForm, rounds, label_for)
        add_fallback_fields(EventRegistrationForm, rounds)
    form = EventRegistrationForm(**kwargs)
    form.plenary.choices = [(s.id, label_for(s)) for s in plenaries]
    if not form.is_submitted():
        form.plenary.data = [s.id for s in plenaries if not s.is_full]
    return form


def add_round_fields(form_class, rounds: list[Round], label_for) -> None:
    """One radio group per workshop round on `form_class`; "none" is always a choice.

    Shared by the registration form and the manage page's change form, so both offer the
    rounds the same way.
    """
    names = []
    for number, workshop_round in enumerate(rounds, start=1):
        name = f"round_{workshop_round.key}"
        choices = [(NO_WORKSHOP, str(_l("No workshop in this round")))] + [
            (str(s.id), label_for(s)) for s in workshop_round.sessions
        ]
        setattr(
            form_class,
            name,
            RadioField(
                str(_l("Round %(n)d", n=number)),
                choices=choices,
                default=NO_WORKSHOP,
                validators=[Optional()],
            ),
        )
        names.append(name)
    form_class._round_names = names
