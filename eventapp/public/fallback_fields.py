"""The registration form's "while you wait" choice (issue 19.4): in a round with a full
workshop, the attendee who joins its waiting list may keep a seat in another workshop of
that round meanwhile (services/registration/fallback.py)."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from ..i18n import in_reader_language
from ..services.programme.reading import Round
from ..web.fields import chosen_id

NO_FALLBACK = ""


def fallback_name(workshop_round: Round) -> str:
    return f"fallback_{workshop_round.key}"


def add_fallback_fields(form_class, rounds: list[Round]) -> None:
    """A select per round that has a full workshop: the workshops with places left."""
    for workshop_round in rounds:
        if not any(s.is_full for s in workshop_round.sessions):
            continue
        open_ones = [s for s in workshop_round.sessions if not s.is_full]
        if not open_ones:
            continue
        choices = [(NO_FALLBACK, str(_l("No other workshop")))] + [
            (str(s.id), in_reader_language(s, "title")) for s in open_ones
        ]
        field = SelectField(
            _l("While you wait for a full workshop, keep a place in (optional)"),
            choices=choices,
            default=NO_FALLBACK,
            validators=[Optional()],
        )
        setattr(form_class, fallback_name(workshop_round), field)


def chosen_fallbacks(form, rounds: list[Round]) -> dict[int, int]:
    """{waited workshop id: fallback workshop id} for the rounds where both were chosen."""
    fallbacks = {}
    for workshop_round, round_field in zip(rounds, form.round_fields(), strict=True):
        field = form._fields.get(fallback_name(workshop_round))
        if field is None:
            continue
        waited, kept = chosen_id(round_field), chosen_id(field)
        if waited is not None and kept is not None and waited != kept:
            fallbacks[waited] = kept
    return fallbacks
