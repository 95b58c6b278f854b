"""The session-choice fields that the registration form (public) and the attendee's private
page (manage) both offer, so both show the programme's rounds the same way.

A round of parallel workshops is a radio group ("no workshop" always a choice), or, for an
event that collects preferences, a 1st/2nd/3rd choice select per round.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, widgets
from wtforms.validators import Optional

from ..services.programme.reading import Round

NO_WORKSHOP = ""
RANK_LABELS = (_l("1st choice"), _l("2nd choice"), _l("3rd choice"))


def strip(value):
    return value.strip() if isinstance(value, str) else value


def chosen_id(field) -> int | None:
    """The session id a round's radio group or ranking select holds; None for no workshop.

    Blank (whitespace only) is no workshop too: the Optional() validator lets a blank value
    through without the choice check (it stops the chain and clears that error), so it
    reaches here as sent. Anything else that is not blank did pass the choice check."""
    value = strip(field.data)
    if not value or value == NO_WORKSHOP:
        return None
    return int(value)


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SessionChoiceMixin:
    """A form with a `plenary` checkbox list and one radio group per round (add_round_fields)."""

    _round_names: list = []

    def round_fields(self):
        return [self[name] for name in self._round_names]

    def chosen_session_ids(self) -> list[int]:
        ids = list(self.plenary.data or [])
        for field in self.round_fields():
            chosen = chosen_id(field)
            if chosen is not None:
                ids.append(chosen)
        return ids


class RankingMixin:
    """Per-round 1st/2nd/3rd choice selects, added by add_rank_fields (preference mode)."""

    _rank_groups: list = []  # (round key, [field names, 1st choice first])

    def rank_groups(self):
        return [(key, [self[name] for name in names]) for key, names in self._rank_groups]

    def ranked_preferences(self) -> dict[str, list[int]]:
        """{round key: [workshop ids, best first]}; blanks ("none is fine") left out."""
        ranked = {}
        for key, fields in self.rank_groups():
            ids = [chosen for chosen in map(chosen_id, fields) if chosen is not None]
            if ids:
                ranked[key] = ids
        return ranked


class PreferencesForm(RankingMixin, FlaskForm):
    """The manage page's form to change one's ranking until the allocation."""


def preferences_form_for(rounds: list[Round], label_for, ranked: dict, **kwargs):
    class EventPreferencesForm(PreferencesForm):
        pass

    add_rank_fields(EventPreferencesForm, rounds, label_for)
    form = EventPreferencesForm(**kwargs)
    if not form.is_submitted():
        for key, fields in form.rank_groups():
            for f, session_id in zip(fields, ranked.get(key, []), strict=False):
                f.data = str(session_id)
    return form


def add_rank_fields(form_class, rounds: list[Round], label_for) -> None:
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


def add_round_fields(form_class, rounds: list[Round], label_for) -> None:
    """One radio group per workshop round on `form_class`; "none" is always a choice."""
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
